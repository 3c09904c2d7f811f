/**
 * One third-party client against one sandbox under the real names: sandbox (port 0) + test certificate + TLS proxy
 * + the client's driver in a child process. `close()` tears everything down (safe after partial setup).
 */
import type { Sandbox, SandboxOptions } from '../../../src/sandbox/index.ts';
import { sandbox } from '../../helpers/sandbox.ts';
import { makeTestCert, type TestCert } from './cert.ts';
import { startTlsProxy, type TlsProxy } from './tls-proxy.ts';
import { ClientProcess } from './child.ts';

export interface Rig {
  sb: Sandbox;
  proxy: TlsProxy;
  client: ClientProcess;
  close(): Promise<void>;
}

export async function startRig(driverPath: string, sandboxOptions: SandboxOptions = {}): Promise<Rig> {
  let sb: Sandbox | undefined;
  let cert: TestCert | undefined;
  let proxy: TlsProxy | undefined;
  let client: ClientProcess | undefined;
  const close = async () => {
    await client?.kill();
    await proxy?.close();
    await sb?.close();
    await cert?.remove();
  };
  try {
    sb = await sandbox(sandboxOptions);
    cert = await makeTestCert();
    proxy = await startTlsProxy({ key: cert.key, cert: cert.cert, targetPort: sb.port });
    client = new ClientProcess(driverPath, { proxyPort: proxy.port, caCertPath: cert.certPath });
    await client.waitEvent('ready');
    return { sb, proxy, client, close };
  } catch (e) {
    await close();
    throw e;
  }
}
