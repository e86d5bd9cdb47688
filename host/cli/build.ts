// `wasmip build APP.ts [-o APP.wasm] [--text APP.wat]`: your app and the core as one firmware
// image, built exactly as `make build` builds ours (image/build.ts), checked as a board would.
import { existsSync } from "node:fs";
import { BuildError, buildImage } from "../image/build.ts";
import { firmwareExports } from "../board/firmware.ts";
import { CliError, checkOutputFile, reportErrors } from "./checks.ts";
import { UsageError, parseFlags } from "./help.ts";

export const BUILD_USAGE = `usage: wasmip build APP.ts [-o OUT.wasm] [--text OUT.wat] [--use WASMIP_NAME=N]...

Compiles APP.ts (an AssemblyScript module that registers its app with setApp from
"wasmip/assembly/app") together with the wasmip core into one firmware image, with the options and
the binaryen pass of wasmip's own images; linear memory is pinned to the pages the image needs.
  -o FILE        the image, default APP.wasm beside APP.ts
  --text FILE    also write the text format (.wat)
  --use NAME=N   a compile-time setting of assembly/config.ts (docs/configuration.md): a feature
                 that is off by default (WASMIP_MULTICAST=1) or a size (WASMIP_TCP_RCV_BUF=8192)
Run it with: wasmip sim --topology FILE ("firmware": "path/to/APP.wasm"), wasmip tap --wasm FILE.
See docs/your-app.md.`;

export function buildCommand(args: string[]): Promise<number> {
  return reportErrors("build", async () => {
    const { values, positionals } = parseFlags(
      args,
      { output: { type: "string", short: "o" }, text: { type: "string" }, use: { type: "string", multiple: true }, help: { type: "boolean", short: "h" } },
      true,
    );
    if (values.help) {
      process.stdout.write(`${BUILD_USAGE}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length ? "one app file at a time" : "expected an app file (APP.ts)");
    const app = positionals[0];
    if (!existsSync(app)) throw new CliError(`${app}: no such file`);
    if (!app.endsWith(".ts")) throw new CliError(`${app}: expected an AssemblyScript source file (.ts)`);
    const out = values.output ?? app.replace(/\.ts$/, ".wasm");
    checkOutputFile(out, "-o");
    if (values.text) checkOutputFile(values.text, "--text");
    let r;
    try {
      r = await buildImage({ app, out, text: values.text, use: values.use as string[] | undefined });
    } catch (e) {
      if (e instanceof BuildError) throw new CliError(e.message);
      throw e;
    }
    firmwareExports(r.out, out);
    process.stdout.write(`wrote ${out}: ${r.bytes} bytes, ${r.pages} page${r.pages > 1 ? "s" : ""} of linear memory (64 KiB each)\n`);
    return 0;
  });
}
