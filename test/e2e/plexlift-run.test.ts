import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { createControllerClient } from '../../packages/controller/src/client.js';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { OWNER_TOKEN, prepare } from './plexlift-fixture.js';

describe('plexlift run, end to end with the local provider', () => {
  it(
    'a delta job against a home and a cloud plex-sim: the home library gets the new films, the counts match the report, a backup exists',
    { timeout: 170_000 },
    async () => {
      const { home, tv, dir, daemon, configPath } = await prepare();
      if (!daemon) throw new Error('the daemon did not start');
      // --keep: the agent's folder (its log) stays for the secrets check below; the agent itself is gone.
      let shown = '';
      const running = runCli(['run', '--mode', 'delta', '--wait', '--keep', '--config', configPath], { onStderr: (chunk) => (shown += chunk) });
      // A reload while the job runs is for the jobs after it: this one keeps its backups folder.
      await vi.waitFor(() => expect(shown).toContain('✓ provision'), { timeout: 60_000, interval: 100 });
      expect((await runCli(['config', 'set', 'home.backups.dir', join(dir, 'backups-after-reload'), '--config', configPath])).status).toBe(0);
      daemon.reload();
      await vi.waitFor(() => expect(daemon.log()).toContain('info: config reloaded'));
      const run = await running;
      const agents = join(dir, 'state', 'agents');
      const agentLogs = () =>
        readdirSync(agents)
          .map((job) => readFileSync(join(agents, job, 'agent.log'), 'utf8'))
          .join('\n');
      expect(run.status, `${run.stderr}\n${daemon.log()}\n${agentLogs()}`).toBe(0);
      // The progress the user saw, phase by phase, and the report.
      for (const phase of ['provision', 'connect', 'mount', 'restore', 'scan', 'analyze', 'upload', 'teardown', 'install'])
        expect(run.stderr).toContain(`✓ ${phase}`);
      expect(run.stderr).toMatch(/ {2}restore \| \d+% \| [\d.,]+ chunks\/min \| ETA \d+s/);
      expect(run.stdout).toMatch(/Movies +4 → 6 \(\+2\)/);
      // The daemon's log says what happened to the job, one line each: its start and its end.
      expect(daemon.log()).toMatch(/^info: job (job-\S+): started: a delta job on local \(every section\), nothing to pay$/m);
      expect(daemon.log()).toMatch(/^info: job job-\S+: ended done in \d+\.\d\d h$/m);
      // Nobody used the home Plex during the job: the merge carried nothing and the report says nothing of it.
      expect(run.stdout).not.toMatch(/from home|changed at home/);

      const stats = readStatsOf(home.paths.mainDb).library.sections;
      expect(stats.map((s) => [s.title, s.counts.movie, s.counts.track])).toEqual([
        ['Movies', 6, 0],
        ['Music', 0, 3],
      ]);
      const backups = readdirSync(join(dir, 'state', 'backups'));
      expect(backups).toHaveLength(1);
      expect(existsSync(join(dir, 'state', 'backups', backups[0]!, 'manifest.json'))).toBe(true);
      expect(existsSync(join(dir, 'backups-after-reload'))).toBe(false);
      // Issue 16 item 11: the restore snapshot (a copy of the home DB) and the installed archive are gone.
      expect(readdirSync(join(dir, 'state', 'transfers'))).toEqual([]);

      const jobs = await runCli(['jobs', '--json', '--config', join(dir, 'config.json')]);
      const [job] = JSON.parse(jobs.stdout) as { state: string; report: { libraries: { sections: { title: string; counts: { movie: number } }[] } } }[];
      expect(job?.state).toBe('done');
      expect(job?.report).not.toHaveProperty('homeChanges');
      expect(job?.report.libraries.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(2);
      // Nothing left running.
      const processes = readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .map((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8');
          } catch {
            return '';
          }
        });
      expect(processes.filter((cmd) => cmd.includes(join(dir, 'state', 'agents')))).toEqual([]);

      // No secret in any log or event: tokens by their shapes, plus the ones known by value.
      const store = new Database(join(dir, 'state', 'plexlift.db'), { readonly: true });
      const events = (store.prepare('SELECT payload_json FROM events').pluck().all() as string[]).join('\n');
      store.close();
      const cloudLogs = readdirSync(agents)
        .map((job) => readFileSync(join(agents, job, 'plex', 'Library', 'Application Support', 'Plex Media Server', 'Logs', 'Plex Media Server.log'), 'utf8'))
        .join('\n');
      const everything = [run.stdout, run.stderr, jobs.stdout, daemon.log(), agentLogs(), cloudLogs, events].join('\n');
      expect(events.length).toBeGreaterThan(1_000);
      const adminToken = readFileSync(join(dir, 'state', 'admin-token'), 'utf8').trim();
      for (const secret of [adminToken, OWNER_TOKEN, ...tv.serverTokens]) expect(everything.includes(secret), `a secret leaked`).toBe(false);
      expect(everything.match(/plx_[abst]_[\w-]{20,}|claim-[\w-]{10,}/g)).toBeNull();

      // An estimate before renting: the first run's from the documented defaults (and said so), the
      // second's from the first run, within 25 % of what it took; its report sets one against the other.
      expect(run.stderr).toMatch(/^ {2}expected: about .+ \(from documented defaults: no run of this library measured yet\)$/m);
      const second = await runCli(['run', '--mode', 'delta', '--wait', '--config', configPath]);
      expect(second.status, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/^ {2}expected: about .+ \(from 1 past delta run of this library doing the same work\)$/m);
      expect(second.stdout).toMatch(/^estimated: .+ \(1 past delta run of this library doing the same work\); took .+ \([+-]\d+ %\)$/m);
      const [latest] = JSON.parse((await runCli(['jobs', '--json', '--config', configPath])).stdout) as {
        createdAt: number;
        finishedAt: number;
        report: { estimate: { seconds: number } };
      }[];
      const actual = (latest!.finishedAt - latest!.createdAt) / 1000;
      const estimated = latest!.report.estimate.seconds;
      expect(Math.abs(estimated - actual) / actual, `estimated ${estimated} s, took ${actual} s: ${JSON.stringify(latest!.report.estimate)}`).toBeLessThan(
        0.25,
      );
    },
  );

  it(
    '--no-install stops at the verified archive; plexlift install puts it in later; rollback and backups work without the daemon',
    { timeout: 170_000 },
    async () => {
      const { home, configPath, daemon } = await prepare();
      if (!daemon) throw new Error('the daemon did not start');
      // SIGHUP: a config edit reaches the daemon; a broken file changes nothing.
      expect((await runCli(['config', 'set', 'media.vfsProfile', 'power', '--config', configPath])).status).toBe(0);
      const good = readFileSync(configPath, 'utf8');
      daemon.reload();
      await vi.waitFor(() => expect(daemon.log()).toContain('info: config reloaded'));
      writeFileSync(configPath, '{ "server": ');
      daemon.reload();
      await vi.waitFor(() => expect(daemon.log()).toMatch(/error: config not reloaded: config .*not valid JSON/));
      writeFileSync(configPath, good);
      // --dry-run: the plan and its checks, nothing started.
      const plan = await runCli(['run', '--mode', 'delta', '--dry-run', '--config', configPath]);
      expect(plan.status, plan.stderr).toBe(0);
      expect(plan.stdout).toMatch(/^plan: a delta job on local, Plex 1\.43\.2\.10687-563d026ea, sections all$/m);
      expect(plan.stdout).toMatch(/^ {2}media .* \(power\); analyses: /m);
      expect(plan.stdout).toMatch(/^ok {3}disk space: /m);
      expect(plan.stdout).toMatch(
        /^ {2}expected: about .+ \(from documented defaults: no run of this library measured yet\)\n {4}provision \d+ s, .*scan .*install \d+ s$/m,
      );
      expect(plan.stdout.trim()).toMatch(/nothing was started \(--dry-run\)$/);
      // What home can check is checked before anything is rented: a section home lacks is a usage error.
      for (const dryRun of [['--dry-run'], []]) {
        const unknown = await runCli(['run', '--mode', 'delta', '--section', 'Nope', ...dryRun, '--config', configPath]);
        expect(unknown).toMatchObject({
          status: 2,
          stderr: expect.stringMatching(
            /^plexlift: --section: "Nope" is not a section of the home library \(it has "Movies" \(1\), "Music" \(2\)\); nothing was started\n$/,
          ),
        });
      }
      expect((await runCli(['run', '--mode', 'delta', '--section', 'Movies', '--dry-run', '--config', configPath])).stdout).toMatch(/sections Movies$/m);
      // --bwlimit travels to the agent in the job spec; without it the config's transfers.bwlimit (none here) does.
      const limited = await runCli(['run', '--mode', 'delta', '--bwlimit', '2M', '--dry-run', '--config', configPath]);
      expect(limited.stdout).toMatch(/^ {2}transfers: at most 2\.0 MiB\/s each way$/m);
      const limitedPlan = JSON.parse((await runCli(['run', '--mode', 'delta', '--bwlimit', '512K', '--dry-run', '--json', '--config', configPath])).stdout) as {
        spec: { bwlimitBytesPerSecond?: number };
      };
      expect(limitedPlan.spec.bwlimitBytesPerSecond).toBe(512 * 1024);
      expect(plan.stdout).not.toMatch(/transfers: at most/);
      expect(JSON.parse((await runCli(['jobs', '--json', '--config', configPath])).stdout)).toEqual([]);
      // A scan job over a library someone watched needs --yes: its ids change, history would not carry over.
      const store = new Database(home.paths.mainDb);
      store.prepare('INSERT INTO metadata_item_settings (account_id, guid, view_count) VALUES (1, ?, 2)').run('plex://movie/watched');
      store.close();
      const scan = await runCli(['run', '--mode', 'scan', '--config', configPath]);
      expect(scan).toMatchObject({
        status: 6,
        stderr: expect.stringMatching(/a scan job builds a new library: every id changes and the watch history of 1 items would not carry over; .*--yes/),
      });

      // Under a limit: the agent's restore and upload go through it (its own tests time it).
      const run = await runCli(['run', '--mode', 'delta', '--wait', '--no-install', '--bwlimit', '10M', '--config', configPath]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toContain('✓ install (skipped)');
      expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(4);
      const [job] = JSON.parse((await runCli(['jobs', '--json', '--config', configPath])).stdout) as {
        id: string;
        state: string;
        spec: { bwlimitBytesPerSecond?: number };
      }[];
      expect(job?.state).toBe('verified');
      expect(job?.spec.bwlimitBytesPerSecond).toBe(10 * 1024 * 1024);
      // The archive waits for plexlift install, with the snapshot it started from (the base of the install's merge of what home did meanwhile).
      expect(readdirSync(join(dirname(configPath), 'state', 'transfers')).sort()).toEqual([`${job!.id}-export`, `${job!.id}-restore`]);

      const install = await runCli(['install', job!.id, '--config', configPath]);
      expect(install.status, install.stderr).toBe(0);
      expect(install.stdout).toMatch(/Movies +4 → 6 \(\+2\)/);
      expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(6);
      expect(readdirSync(join(dirname(configPath), 'state', 'transfers'))).toEqual([]);
      const again = await runCli(['install', job!.id, '--config', configPath]);
      expect(again).toMatchObject({ status: 2, stderr: expect.stringMatching(/has no verified archive waiting to be installed \(it is done\)/) });

      const logs = await runCli(['logs', job!.id, '--config', configPath]);
      expect(logs.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d provision: started$/m);
      expect(logs.stdout).toMatch(/ install: done /);
      // doctor: every line ok here; a remote that does not list is a line to fix (exit 78).
      const doctor = await runCli(['doctor', '--config', configPath]);
      expect(doctor.status, doctor.stdout).toBe(0);
      expect(doctor.stdout).toMatch(/^ok {3}home library: 2 sections: Movies, Music$/m);
      expect(doctor.stdout).toMatch(/^ok {3}plex\.tv account: token accepted, Plex Pass active/m);
      expect(doctor.stdout).toMatch(/^ok {3}daemon: answers with the admin token; last job job-/m);
      // The whole job ran over TLS: the daemon's self-signed certificate, pinned by the agent and the CLI.
      expect(doctor.stdout).toMatch(/^ok {3}tls: .*cert\.pem, SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2} \(agents pin it\)$/m);
      const broken = join(dirname(configPath), 'broken.json');
      writeFileSync(
        broken,
        JSON.stringify({
          ...(JSON.parse(readFileSync(configPath, 'utf8')) as { media: object }),
          media: { mountPath: '/media', remote: ":http,url='http://127.0.0.1:1':" },
        }),
      );
      const sick = await runCli(['doctor', '--config', broken]);
      expect(sick.status).toBe(78);
      expect(sick.stdout).toMatch(/^FIX {2}media remote: media\.remote: rclone cannot list/m);

      // The same from the daemon, as the dashboard asks it through the API: the doctor, the backups, a rollback.
      const api = createControllerClient({
        url: /plexlift listening on (\S+)/.exec(daemon.log())![1]!,
        token: readFileSync(join(dirname(configPath), 'state', 'admin-token'), 'utf8').trim(),
        fingerprint: /SHA-256 fingerprint (\S+)/.exec(daemon.log())![1]!,
      });
      onTestFinished(() => api.close());
      const checks = await api.daemon.doctor.query();
      expect(checks.filter((check) => !check.ok)).toEqual([]);
      expect(checks[0]).toEqual({ name: 'config', ok: true, detail: `${configPath}, as the daemon loaded it` });
      expect(checks.map((check) => check.name)).toEqual(expect.arrayContaining(['home library', 'plex.tv account', 'media remote', 'tls']));
      const [made, ...older] = await api.home.backups.query();
      expect(older).toEqual([]);
      expect(made).toMatchObject({ jobId: job!.id, createdAt: expect.stringMatching(/^\d{4}-/), replaced: expect.any(Number), added: expect.any(Number) });
      await expect(api.home.rollback.mutate({ backup: 'not-a-backup' })).rejects.toThrow(/^backup: no backup not-a-backup in /);
      expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(6);
      // One rollback at a time: the second, asked meanwhile, is refused and changes nothing.
      const [first, second] = await Promise.allSettled([api.home.rollback.mutate({ backup: made!.name }), api.home.rollback.mutate({})]);
      expect(first).toEqual({ status: 'fulfilled', value: { backup: made!.name, jobId: job!.id } });
      expect(second).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/busy with home Plex \(roll back under way\)/) } });
      expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(4);
      expect(daemon.log()).toMatch(/rollback asked through the API: putting back .* \(made before job job-\S+\)/);
      expect(daemon.log()).toMatch(/rollback: the library home had is back/);

      const backups = await runCli(['backups', 'list', '--json', '--config', configPath]);
      expect(JSON.parse(backups.stdout)).toHaveLength(1);
      const rollback = await runCli(['rollback', '--config', configPath]);
      expect(rollback.status, rollback.stderr).toBe(0);
      expect(rollback.stdout).toMatch(/the home library is back as it was before job job-/);
      expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(4);
    },
  );
});
