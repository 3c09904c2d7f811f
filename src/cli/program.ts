/**
 * The `openwx` command's parser. `openwx sandbox …` runs the fake WeChat web server (src/cli/sandbox.ts);
 * `openwx controller …` hosts many accounts behind the Controller API (src/cli/controller.ts);
 * `openwx [options]` runs the bridge (src/cli/run.ts). Loaded by src/cli/main.ts unless it relaunches.
 */
import { Command } from 'commander';
import { registerSandboxCommand } from './sandbox.ts';
import { registerRunCommand } from './run.ts';
import { registerControllerCommand } from './controller.ts';

const program = new Command();
// Options are positional: the run command's own options (--port, --host, …) are read only before a subcommand name,
// so `openwx sandbox --port 5031` gives --port to the sandbox, as every documented form expects (commander's default
// lets the program's options be picked up anywhere, and the sandbox then listened on 5030).
program.name('openwx').description('WeChat web-protocol bot bridge with the Openwx HTTP API').enablePositionalOptions();
registerRunCommand(program);
registerSandboxCommand(program);
registerControllerCommand(program);
await program.parseAsync(process.argv);
