import si from 'systeminformation';

/** CPU use of the machine, percent, over the time since the previous reading. */
export interface CpuMonitor {
  read(): Promise<number>;
}

/**
 * The VM's CPU from `systeminformation` (on the cloud VM Plex is what runs). The Docker
 * issue adds a monitor of the Plex container alone.
 */
export async function createHostCpuMonitor(): Promise<CpuMonitor> {
  await si.currentLoad(); // the first reading spans the whole uptime; start the window now
  return {
    read: async () => (await si.currentLoad()).currentLoad,
  };
}
