/**
 * The `openwx` command's entry point. `openwx controller` first gets the V8 heap settings it needs in a process of
 * its own (src/cli/launch.ts: this process then only launches it); everything else, and the controller process
 * itself, runs the parser (src/cli/program.ts), loaded only then so a launcher loads nothing else.
 */
import { relaunch, relaunchFlags } from './launch.ts';

const flags = relaunchFlags(process.argv, process.execArgv, process.env);
if (flags) relaunch(flags);
else await import('./program.ts');
