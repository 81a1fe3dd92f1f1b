#!/usr/bin/env node
/**
 * The plexlift agent: runs on the cloud VM next to Plex, dials home and carries out the job's
 * phases. The bootstrap token comes from a file or `PLEXLIFT_AGENT_TOKEN`, never from the
 * command line (other users see it in `ps`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT_CODES, PlexliftError } from '@plexlift/shared';
import { readPreferencesFile } from '@plexlift/shared/plex-api';
import { normalizeFingerprint } from '@plexlift/shared/tls';
import { DockerApi, plexContainerName } from '@plexlift/shared/docker';
import { createContainerCpuMonitor } from './monitors/cpu-monitor.js';
import { createDockerPlexRuntime } from './plex/docker-plex-runtime.js';
import { createLocalPlexRuntime } from './plex/local-plex-runtime.js';
import { runJob, type RunJobOptions } from './run-job.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const USAGE = `Usage: plexlift-agent --controller WS_URL --job JOB_ID --work-dir DIR --plex-config DIR [--plex-transcode DIR]
                      (--plex-runtime docker [--plex-image IMAGE] [--plex-url URL] [--plex-env K=V]...
                       | --plex-command JSON_ARRAY)
                      [--fingerprint SHA256] [--token-file FILE] [--tuning FILE]
       plexlift-agent --version | --help

Carries out a job's cloud phases (mount, restore, repair, remap, plex-start, preflight, scan,
warm, analyze, refresh, stabilize, sonic, plex-stop, export, upload) next to Plex Media Server,
reporting to the plexlift controller. The token is read from --token-file or PLEXLIFT_AGENT_TOKEN.
With --fingerprint, a wss:// controller is trusted only if its certificate has that SHA-256
fingerprint (the controller's self-signed certificate); without it, the system's CAs decide.
--plex-runtime docker runs Plex in IMAGE (default plexinc/pms-docker) tagged with the home's
exact version, through the Docker Engine at DOCKER_SOCKET (default /var/run/docker.sock);
--plex-command runs it as a child process instead.`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        controller: { type: 'string' },
        job: { type: 'string' },
        'work-dir': { type: 'string' },
        'plex-config': { type: 'string' },
        'plex-transcode': { type: 'string' },
        'plex-command': { type: 'string' },
        'token-file': { type: 'string' },
        'plex-runtime': { type: 'string' },
        'plex-image': { type: 'string' },
        'plex-url': { type: 'string' },
        'plex-env': { type: 'string', multiple: true },
        fingerprint: { type: 'string' },
        tuning: { type: 'string' },
      },
    }));
  } catch (error) {
    process.stderr.write(`plexlift-agent: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT_CODES.usage;
  }
  if (values.version) {
    process.stdout.write(`${version}\n`);
    return EXIT_CODES.ok;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_CODES.ok;
  }
  const missing = (['controller', 'job', 'work-dir', 'plex-config'] as const).filter((name) => !values[name]);
  if (missing.length > 0 || (!values['plex-command'] && values['plex-runtime'] !== 'docker')) {
    const names = [
      ...missing.map((m) => `--${m}`),
      ...(values['plex-command'] || values['plex-runtime'] === 'docker' ? [] : ['--plex-runtime docker or --plex-command']),
    ];
    process.stderr.write(`plexlift-agent: missing ${names.join(', ')}\n${USAGE}\n`);
    return EXIT_CODES.usage;
  }
  if (values['plex-runtime'] && values['plex-runtime'] !== 'docker') {
    process.stderr.write(`plexlift-agent: --plex-runtime: "${values['plex-runtime']}" is not a runtime (docker; or give --plex-command)\n`);
    return EXIT_CODES.usage;
  }
  let command: string[] | undefined;
  if (values['plex-command']) {
    try {
      command = JSON.parse(values['plex-command']) as string[];
      if (!Array.isArray(command) || command.some((part) => typeof part !== 'string')) throw new Error('not an array of strings');
    } catch (error) {
      process.stderr.write(`plexlift-agent: --plex-command must be a JSON array of strings (${(error as Error).message})\n`);
      return EXIT_CODES.usage;
    }
  }
  const plexEnv: Record<string, string> = {};
  for (const pair of values['plex-env'] ?? []) {
    const at = pair.indexOf('=');
    if (at < 1) {
      process.stderr.write(`plexlift-agent: --plex-env: "${pair}" is not KEY=VALUE\n`);
      return EXIT_CODES.usage;
    }
    plexEnv[pair.slice(0, at)] = pair.slice(at + 1);
  }
  let fingerprint: string | undefined;
  try {
    fingerprint = values.fingerprint ? normalizeFingerprint(values.fingerprint, '--fingerprint') : undefined;
  } catch (error) {
    process.stderr.write(`plexlift-agent: ${(error as Error).message}\n`);
    return EXIT_CODES.usage;
  }
  const tokenFile = values['token-file'];
  const token = () => (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : (process.env.PLEXLIFT_AGENT_TOKEN ?? ''));
  const plexConfig = values['plex-config']!;
  const pmsDir = join(plexConfig, 'Library', 'Application Support', 'Plex Media Server');
  const controller = new AbortController();
  // `on`, not `once`: a teardown may signal twice (a restarted controller tearing down again);
  // the agent still stops Plex, unmounts and hands home its last events. SIGKILL is the hard stop.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => controller.abort(new PlexliftError('JOB_ABORTED', `stopped by ${signal}`)));
  const workDir = values['work-dir']!;
  const plexRuntime = (): Pick<RunJobOptions, 'runtime' | 'cpuMonitor'> => {
    if (command) return { runtime: createLocalPlexRuntime({ command, configDir: plexConfig }) };
    // The container alone is what the idle waits and the CPU samples watch.
    const containerName = plexContainerName(values.job!);
    return {
      runtime: createDockerPlexRuntime({
        docker: new DockerApi(),
        ...(values['plex-image'] ? { image: values['plex-image'] } : {}),
        ...(values['plex-url'] ? { url: values['plex-url'] } : {}),
        env: plexEnv,
        configDir: plexConfig,
        transcodeDir: values['plex-transcode'] ?? join(workDir, 'transcode'),
        containerName,
        onLog: (line) => process.stdout.write(`plex: ${line}\n`),
      }),
      cpuMonitor: createContainerCpuMonitor(containerName),
    };
  };
  const outcome = await runJob({
    controllerUrl: values.controller!,
    fingerprint,
    jobId: values.job!,
    agentVersion: version,
    token,
    workDir,
    plexConfigDir: plexConfig,
    ...plexRuntime(),
    readPlexToken: () => {
      try {
        return readPreferencesFile(pmsDir).get('PlexOnlineToken') || undefined;
      } catch {
        return undefined;
      }
    },
    signal: controller.signal,
    ...(values.tuning ? { tuning: JSON.parse(readFileSync(values.tuning, 'utf8')) as NonNullable<RunJobOptions['tuning']> } : {}),
  });
  if (outcome.ok) {
    process.stdout.write(`job ${values.job!}: done (${outcome.run.completed.join(', ')})\n`);
    return EXIT_CODES.ok;
  }
  process.stderr.write(`plexlift-agent: ${outcome.error.message}\n`);
  return outcome.error.exitCode;
}

process.exitCode = await main(process.argv.slice(2));
