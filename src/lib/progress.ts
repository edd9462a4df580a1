import cliProgress from 'cli-progress';

export interface Progress {
  tick(n?: number): void;
  setTotal(total: number): void;
  /** jump to `done` (of `total`, when it changed: early stopping ends a bar before its planned end) */
  update(done: number, total?: number): void;
  stop(): void;
}

/**
 * A bar on a TTY, a line every few seconds otherwise (CI logs, pipes), silent when quiet.
 * Progress is for the person running the command, so it goes with the results on stdout;
 * stderr carries the logs (and errors). No command writes data to stdout (CSV, JSONL go to files).
 */
export function createProgress(label: string, total: number, options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? process.stdout;
  if (options.quiet) return { tick() {}, setTotal() {}, update() {}, stop() {} };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      tick: (n = 1) => bar.increment(n),
      setTotal: (t) => bar.setTotal(t),
      update: (done, t) => {
        if (t !== undefined) bar.setTotal(t);
        bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  let done = 0;
  let printed = -1;
  let lastPrint = Date.now();
  const print = () => {
    if (printed === done) return;
    printed = done;
    stream.write(`${label}: ${done}${total ? `/${total}` : ''}\n`);
  };
  return {
    tick(n = 1) {
      done += n;
      if (Date.now() - lastPrint > 5000) {
        lastPrint = Date.now();
        print();
      }
    },
    setTotal(t) {
      total = t;
    },
    update(value, t) {
      if (t !== undefined) total = t;
      this.tick(value - done);
    },
    stop() {
      print();
    },
  };
}
