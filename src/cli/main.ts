/**
 * The `openwx` command. `openwx sandbox …` runs the fake WeChat web server (src/cli/sandbox.ts);
 * `openwx [options]` runs the bridge (src/cli/run.ts).
 */
import { Command } from 'commander';
import { registerSandboxCommand } from './sandbox.ts';
import { registerRunCommand } from './run.ts';

const program = new Command();
program.name('openwx').description('WeChat web-protocol bot bridge with the Openwx HTTP API');
registerRunCommand(program);
registerSandboxCommand(program);
await program.parseAsync(process.argv);
