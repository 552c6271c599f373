"""stratus: an AWS-compatible serverless cloud that runs on your own machines."""

__version__ = "0.1.0"
