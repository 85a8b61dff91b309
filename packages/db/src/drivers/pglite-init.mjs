// Initialises an empty PGlite data directory (initdb) and exits. Run as a child process by the PGlite
// driver: initdb grows the WebAssembly memory to several hundred MiB, which a process never gives back.
import { PGlite } from '@electric-sql/pglite';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: pglite-init.mjs DATA_DIR\n');
  process.exit(2);
}
const pg = new PGlite({ dataDir });
await pg.waitReady;
await pg.close();
