// Imports the module named on the command line and prints the URL of every module the import loaded, one per line
// on stdout: a resolve hook sees each one (hooks run off the main thread, so it writes them itself).
import { register } from "node:module";
import { pathToFileURL } from "node:url";

const hook = `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  process.stdout.write(result.url + "\\n");
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
await import(pathToFileURL(process.argv[2]).href);
