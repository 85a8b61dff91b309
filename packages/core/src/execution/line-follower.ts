import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

const CHUNK = 64 * 1024;
/** A runtime printing megabytes without a newline must not grow the supervisor's memory without bound. */
const MAX_LINE = 1024 * 1024;

/**
 * Reads a file that another process appends to, like `tail -f` from its first byte: each call of `pump()`
 * hands over the complete lines appended since the previous call and keeps an unterminated last line (and a
 * UTF-8 character cut between two reads) until it is completed. Callers decide when to pump (file watcher,
 * timer); lines are delivered in order and each `onLine` is awaited before the next.
 *
 * The file is read with synchronous calls: a pass is an fstat and a read of what was appended (a few
 * kilobytes of a local file), and a supervisor makes hundreds of passes a second across runs, where the
 * promise and thread-pool round trips of asynchronous calls cost more than the reads themselves.
 */
export class LineFollower {
  private fd: number | null = null;
  private position = 0;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  private mtime: number | null = null;

  constructor(
    private readonly path: string,
    private readonly onLine: (line: string) => void | Promise<void>,
  ) {}

  /** Time of the last write to the file (ms since the epoch); null while it is empty. */
  get lastWriteAt(): number | null {
    return this.mtime;
  }

  /** `final`: the writer is gone, so an unterminated last line is complete as it is. */
  async pump(final = false): Promise<void> {
    const fd = this.handle();
    if (fd === null) return;
    const st = fstatSync(fd);
    if (st.size > 0) this.mtime = st.mtimeMs;
    while (this.position < st.size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, st.size - this.position));
      const bytesRead = readSync(fd, buf, 0, buf.length, this.position);
      if (bytesRead === 0) break;
      this.position += bytesRead;
      await this.split(this.decoder.write(buf.subarray(0, bytesRead)));
    }
    if (final) {
      const rest = this.partial + this.decoder.end();
      this.partial = '';
      if (rest !== '') await this.onLine(stripCr(rest));
    }
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) closeSync(fd);
  }

  private handle(): number | null {
    if (this.fd !== null) return this.fd;
    try {
      this.fd = openSync(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return this.fd;
  }

  private async split(text: string): Promise<void> {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) await this.onLine(stripCr(line));
    if (this.partial.length > MAX_LINE) {
      const long = this.partial;
      this.partial = '';
      await this.onLine(long);
    }
  }
}

const stripCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);
