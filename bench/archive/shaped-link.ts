import { execFileSync, spawnSync } from 'node:child_process';

export interface ShapedLink extends Disposable {
  homeNetns: string;
  vmNetns: string;
  /** Home's address, as the VM's namespace reaches it. */
  homeAddress: string;
  rateMbit: number;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * Two network namespaces of our own joined by a veth pair, each direction shaped by a `tc`
 * token bucket: a home and a VM with a slow link between them. The addresses are the
 * documentation range and exist only inside these two namespaces.
 */
export function createShapedLink(rateMbit: number): ShapedLink {
  const tag = `plb${process.pid % 100_000}`;
  const home = `${tag}-home`;
  const vm = `${tag}-vm`;
  const dispose = () => {
    for (const ns of [home, vm]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  };
  dispose();
  try {
    ip('netns', 'add', home);
    ip('netns', 'add', vm);
    ip('link', 'add', `${tag}h`, 'type', 'veth', 'peer', 'name', `${tag}v`);
    ip('link', 'set', `${tag}h`, 'netns', home);
    ip('link', 'set', `${tag}v`, 'netns', vm);
    for (const [ns, dev, address] of [
      [home, `${tag}h`, '192.0.2.1/24'],
      [vm, `${tag}v`, '192.0.2.2/24'],
    ] as const) {
      ip('-n', ns, 'addr', 'add', address, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      // A token bucket on the way out: the rate, a burst of a few packets, a queue of 50 ms.
      execFileSync('tc', ['-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '64kb', 'latency', '50ms']);
    }
  } catch (error) {
    dispose();
    throw error;
  }
  return { homeNetns: home, vmNetns: vm, homeAddress: '192.0.2.1', rateMbit, [Symbol.dispose]: dispose };
}
