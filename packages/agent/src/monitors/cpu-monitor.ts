import { cpus } from 'node:os';
import si from 'systeminformation';

/** CPU use of the machine, percent, over the time since the previous reading. */
export interface CpuMonitor {
  read(): Promise<number>;
}

/** The VM's CPU from `systeminformation` (on the cloud VM Plex is what runs). */
export async function createHostCpuMonitor(): Promise<CpuMonitor> {
  await si.currentLoad(); // the first reading spans the whole uptime; start the window now
  return {
    read: async () => (await si.currentLoad()).currentLoad,
  };
}

/**
 * The Plex container's CPU alone (Docker's stats through `systeminformation`, which finds the
 * engine at `DOCKER_SOCKET`), as a share of the whole machine like the host monitor; 0 while the
 * container does not run.
 */
export function createContainerCpuMonitor(container: string): CpuMonitor {
  const cores = Math.max(1, cpus().length);
  return {
    read: async () => {
      const [stats] = await si.dockerContainerStats(container);
      const percent = stats?.cpuPercent;
      return typeof percent === 'number' && Number.isFinite(percent) ? Math.min(100, percent / cores) : 0;
    },
  };
}
