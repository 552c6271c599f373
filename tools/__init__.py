"""Developer tools: code generation from botocore models and the coverage table."""
