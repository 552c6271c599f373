// Preloaded (node --import) by stratus for nodejs18.x and later: registers node_esm_paths.mjs.
// module.register exists from Node 18.19 / 20.6; on an older node, ES modules see no NODE_PATH.
import * as nodeModule from "node:module";

if (typeof nodeModule.register === "function") nodeModule.register("./node_esm_paths.mjs", import.meta.url);
