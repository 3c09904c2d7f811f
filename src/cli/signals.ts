/**
 * SIGINT and SIGTERM for a long-running command, listened to from the moment it starts.
 *
 * Node acts on a signal by its default (the process killed, nothing closed, exit by signal) until a listener is added.
 * The commands used to add theirs after printing their ready lines, so a service manager or a script that signals as
 * soon as it sees one could kill the process half-started. Now a signal during the start is kept and acted on once the
 * start is over; repeated signals are one stop (`stop` is called once per signal: the commands' shutdown runs once).
 */
type StopSignal = 'SIGINT' | 'SIGTERM';

export function stopOnSignals(stop: (signal: StopSignal) => void): { started(): void } {
  let ready = false;
  let pending: StopSignal | null = null;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (ready) stop(signal);
      else pending ??= signal;
    });
  }
  return {
    /** The start is over: from now on a signal stops at once, and one that came during the start does now. */
    started() {
      ready = true;
      if (pending) stop(pending);
    },
  };
}
