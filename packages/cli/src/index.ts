export { npyBytes } from "./npy.ts";
export { infoJson, infoText } from "./commands/info.ts";
