import type { InstallStep } from './home-install.js';

/**
 * An install step as the person waiting reads it: above all, from when to when home Plex is
 * down (the seconds their household notices).
 */
export function describeInstallStep(step: InstallStep, detail?: string): string {
  switch (step) {
    case 'staging':
      return 'unpacking the new library beside home (home Plex still runs)';
    case 'checking':
      return 'checking the new library (home Plex still runs)';
    case 'stopping':
      return `stopping home Plex (${detail ?? 'its control'}): it is down until the new library answers`;
    case 'merging':
      return `home Plex is down: carrying over ${detail ?? 'what home did during the job'}`;
    case 'backing-up':
      return 'home Plex is down: backing up the library it had';
    case 'installing':
      return 'home Plex is down: moving the new library in';
    case 'starting':
      return `starting home Plex (${detail ?? 'its control'})`;
    case 'verifying':
      return `waiting for home Plex to answer with the new library${detail ? ` (${detail})` : ''}`;
    case 'rolling-back':
      return `putting back the library home had${detail ? ` from ${detail}` : ''}`;
    case 'restored':
      return `the library home had is back${detail ? ` (${detail})` : ''}; starting home Plex`;
    case 'done':
      return 'home Plex answers';
  }
}
