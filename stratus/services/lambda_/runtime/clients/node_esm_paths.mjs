// A module resolve hook: ES module imports also search NODE_PATH, as on AWS.
//
// Node's ES module loader ignores NODE_PATH; AWS's Node.js runtimes from nodejs18.x search its
// folders when loading ES modules, which is how `import "@aws-sdk/client-sqs"` finds the SDK the
// runtime includes, and how ES modules find packages in layers. A bare specifier that node's own
// resolution (the function's node_modules folders, up from the importing file) cannot find is
// looked up in each NODE_PATH folder named node_modules, in order; anything else keeps node's error.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const FOLDERS = (process.env.NODE_PATH || "")
  .split(path.delimiter)
  .filter((folder) => folder && path.basename(folder) === "node_modules");

// "@scope/name/sub/path" -> "@scope/name"; "name/sub" -> "name"; relative, absolute, URL and builtins -> null.
function packageName(specifier) {
  if (/^[./]/.test(specifier) || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(specifier)) return null;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const name = error && error.code === "ERR_MODULE_NOT_FOUND" ? packageName(specifier) : null;
    if (!name) throw error;
    for (const folder of FOLDERS) {
      if (!fs.existsSync(path.join(folder, name))) continue;
      // Resolved as if imported from a file beside the folder: node's resolver (package.json
      // "exports", "main", conditions) looks in <folder> first, where the package is.
      const parentURL = pathToFileURL(path.join(path.dirname(folder), "[node-path].mjs")).href;
      return nextResolve(specifier, { ...context, parentURL });
    }
    throw error;
  }
}
