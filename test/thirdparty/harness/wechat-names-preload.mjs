// Preloaded (`node --import`) into the child process that runs a third-party client, unmodified. It emulates two
// things of the outside world and nothing else:
//   DNS   — the WeChat names (…qq.com, …wechat.com, …wechatapp.com) resolve to 127.0.0.1; any other non-local name
//           fails with ENOTFOUND, so nothing can leave the machine;
//   route — a TLS connection to a WeChat name on port 443 goes to our TLS proxy (OPENWX_TP_PROXY_PORT) instead,
//           keeping the real name as SNI and for certificate verification (the proxy's certificate is trusted
//           through NODE_EXTRA_CA_CERTS).
// The client's own code, its HTTP library and Node's HTTP/TLS stacks run as they are.
import dns from 'node:dns';
import tls from 'node:tls';

const proxyPort = Number(process.env.OPENWX_TP_PROXY_PORT);
if (!Number.isInteger(proxyPort) || proxyPort <= 0) throw new Error('wechat-names-preload: OPENWX_TP_PROXY_PORT is not set');

const WECHAT_NAME = /(^|\.)(qq\.com|wechat\.com|wechatapp\.com)\.?$/i;
const LOCAL_NAME = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i;

function notFound(hostname) {
  const e = new Error(`getaddrinfo ENOTFOUND ${hostname} (blocked by the test preload: only WeChat names resolve)`);
  e.code = 'ENOTFOUND';
  e.errno = -3008;
  e.syscall = 'getaddrinfo';
  e.hostname = hostname;
  return e;
}

const originalLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  } else if (typeof options === 'number') {
    options = { family: options };
  } else {
    options = options ?? {};
  }
  const name = String(hostname ?? '');
  if (WECHAT_NAME.test(name)) {
    const answer = { address: '127.0.0.1', family: 4 };
    process.nextTick(() => (options.all ? callback(null, [answer]) : callback(null, answer.address, answer.family)));
    return {};
  }
  if (LOCAL_NAME.test(name) || net_isIP(name)) return originalLookup.call(this, hostname, options, callback);
  process.nextTick(() => callback(notFound(name)));
  return {};
};

function net_isIP(s) {
  return /^\d+\.\d+\.\d+\.\d+$/.test(s) || s.includes(':');
}

const originalTlsConnect = tls.connect;
tls.connect = function connect(...args) {
  // tls.connect(options[, cb]) | tls.connect(port[, host][, options][, cb])
  let options;
  let rest;
  if (args[0] !== null && typeof args[0] === 'object') {
    options = { ...args[0] };
    rest = args.slice(1);
  } else {
    options = { port: args[0] };
    let i = 1;
    if (typeof args[i] === 'string') options.host = args[i++];
    if (args[i] !== null && typeof args[i] === 'object') options = { ...args[i++], ...options };
    rest = args.slice(i);
  }
  const name = String(options.servername || options.host || '');
  const port = Number(options.port ?? 443);
  if (WECHAT_NAME.test(name) && port === 443 && !options.socket) {
    options.servername = name.replace(/\.$/, '');
    options.host = '127.0.0.1';
    options.port = proxyPort;
  }
  return originalTlsConnect.call(this, options, ...rest);
};
