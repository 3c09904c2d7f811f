/**
 * Reads a byte stream into memory with plain 'data'/'end' listeners. `for await` over a stream costs an async
 * iterator, a promise per chunk and an end-of-stream watcher; at thousands of small HTTP answers per second (the
 * sync loop's, the post_api answers) that garbage showed in the profiles (docs/benchmarks.md, "Accounts").
 */
import type { Readable } from 'node:stream';

export interface ReadResult {
  /** The bytes read (at most `maxBytes`). */
  data: Buffer;
  /** The stream had more than `maxBytes`: the rest was not read and the stream was destroyed quietly. */
  truncated: boolean;
}

/**
 * The whole stream, or its first `maxBytes` (then it is destroyed, its later errors ignored). Rejects with the
 * stream's error, or when it closes before its end (`ERR_STREAM_PREMATURE_CLOSE`, as `for await` would).
 */
export function readStream(stream: Readable, maxBytes = Infinity): Promise<ReadResult> {
  return new Promise<ReadResult>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (truncated: boolean) => {
      cleanup();
      resolve({ data: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), truncated });
    };
    const onData = (c: Buffer) => {
      if (size + c.length > maxBytes) {
        const part = c.subarray(0, maxBytes - size);
        chunks.push(part);
        size += part.length;
        stream.on('error', ignore);
        finish(true);
        stream.destroy();
        return;
      }
      size += c.length;
      chunks.push(c);
    };
    const onEnd = () => finish(false);
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onClose = () => {
      // 'close' after 'end' never reaches here (the listeners are gone); before it, the stream was cut short.
      cleanup();
      reject(stream.errored ?? Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    if (stream.errored) return reject(stream.errored);
    if (stream.readableEnded) return resolve({ data: Buffer.alloc(0), truncated: false });
    if (stream.destroyed) return onClose();
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

function ignore(): void {}
