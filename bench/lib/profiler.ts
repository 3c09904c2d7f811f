/** In-process CPU profiling through node:inspector (a phase at a time, unlike --cpu-prof's whole process). */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

let session: Session | null = null;

export async function profileStart(): Promise<void> {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}

/** Stops the profile and writes it as a .cpuprofile file. */
export async function profileStop(file: string): Promise<string> {
  if (!session) throw new Error('profiler not started');
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
  session = null;
  return file;
}
