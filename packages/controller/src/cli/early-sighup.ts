/**
 * SIGHUP's default action ends the process (exit 129, which systemd treats as a clean stop: no
 * restart). `systemctl reload` may send it while the daemon is still starting (opening the store,
 * making a certificate, listening), before the reload handler exists. This handler, installed
 * first thing in `serve`, remembers such a request and hands it to the real handler once the
 * daemon is up: the config read at start may be older than the edit the reload was for.
 */
export interface EarlySighup {
  /** Installs `reload` for every later SIGHUP, and runs it once now if one came during start-up. */
  handOver(reload: () => void): void;
  /** Start-up failed: stop holding SIGHUP. */
  release(): void;
}

export function holdSighupDuringStartup(): EarlySighup {
  let requested = false;
  const remember = () => {
    requested = true;
  };
  process.on('SIGHUP', remember);
  return {
    handOver(reload) {
      process.on('SIGHUP', reload);
      process.off('SIGHUP', remember);
      if (requested) reload();
    },
    release() {
      process.off('SIGHUP', remember);
    },
  };
}
