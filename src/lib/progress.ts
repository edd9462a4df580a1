import cliProgress from 'cli-progress';

export interface Progress {
  tick(n?: number): void;
  setTotal(total: number): void;
  stop(): void;
}

/**
 * A bar on a TTY, a line every few seconds otherwise (CI logs, pipes), silent when quiet.
 */
export function createProgress(label: string, total: number, options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { tick() {}, setTotal() {}, stop() {} };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { tick: (n = 1) => bar.increment(n), setTotal: (t) => bar.setTotal(t), stop: () => bar.stop() };
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
    stop() {
      print();
    },
  };
}
