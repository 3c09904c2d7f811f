/**
 * A throw-away self-signed certificate for the real WeChat names, made at test time with the `openssl` command
 * (part of the Debian base image; .ci/run installs it where missing). The third-party client trusts it through
 * NODE_EXTRA_CA_CERTS, so TLS is verified for real (hostname included) while it talks to our proxy.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every name a web-protocol client may dial: wx.qq.com, login./file./webpush.wx.qq.com, login.weixin.qq.com, wx2 … */
export const WECHAT_CERT_NAMES = ['qq.com', '*.qq.com', '*.wx.qq.com', '*.wx2.qq.com', '*.wx8.qq.com', '*.weixin.qq.com'];

export interface TestCert {
  dir: string;
  certPath: string;
  key: string;
  cert: string;
  remove(): Promise<void>;
}

export async function makeTestCert(names: string[] = WECHAT_CERT_NAMES): Promise<TestCert> {
  const dir = await mkdtemp(join(tmpdir(), 'openwx-tp-cert-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '2',
      '-subj', '/CN=openwx third-party fidelity test',
      '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    ]);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new Error('the openssl command is needed by the third-party client tests (apt-get install -y openssl)');
    throw e;
  }
  return {
    dir,
    certPath,
    key: await readFile(keyPath, 'utf8'),
    cert: await readFile(certPath, 'utf8'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
