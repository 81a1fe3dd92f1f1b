import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, PlexliftError } from '@plexlift/shared';
import { PROTOCOL_VERSION } from '@plexlift/shared/protocol';
import { AgentJobs } from '../../packages/controller/src/jobs/agent-job.js';
import { stageHomeSide } from '../../packages/controller/src/jobs/home-side.js';
import { selectRemoteConfig } from '../../packages/controller/src/jobs/rclone-remote-config.js';
import { createTempDir } from '../utils/temp-dir.js';
import { agentClient, JOB_ID, startPortController } from './port-controller.js';

/** A user's rclone.conf: the media remote among others that hold unrelated credentials. */
const RCLONE_CONF = `# rclone.conf of the home server
[s3]
type = s3
provider = Scaleway
access_key_id = SCWMEDIAKEY
secret_access_key = media-secret
region = fr-par
endpoint = s3.fr-par.scw.cloud

[gdrive]
type = drive
scope = drive
token = {"access_token":"ya29.private-drive-token","token_type":"Bearer"}

[backups]
type = sftp
host = nas.example.net
user = admin
pass = backup-password-obscured

[vault]
type = crypt
remote = layered:vault
password = crypt-password-obscured

[layered]
type = union
upstreams = s3:bucket/a b2:photos:ro /srv/local

[b2]
type = b2
account = b2-account
key = b2-key

[media-alias]
type = alias
remote = vault:movies

[dangling]
type = crypt
remote = missing:somewhere
password = x
`;

const dump = (configText: string): Record<string, Record<string, string>> => {
  const file = join(createTempDir(), 'selected.conf');
  writeFileSync(file, configText, { mode: 0o600 });
  return JSON.parse(execFileSync('rclone', ['config', 'dump', '--config', file], { encoding: 'utf8' })) as Record<string, Record<string, string>>;
};

// Issue 16, item 13: the VM gets the remote it uses, not every remote of the home server.
describe('the rclone config sent to the VM', () => {
  it('agent.job sends only the section of media.remote: no other remote or credential', async () => {
    const dir = createTempDir();
    const rcloneConfigPath = join(dir, 'rclone.conf');
    writeFileSync(rcloneConfigPath, RCLONE_CONF, { mode: 0o600 });
    const config = parseConfig(
      {
        home: { plexDataDir: '/nonexistent/pms', control: { type: 'systemd', unit: 'plexmediaserver.service' } },
        media: { mountPath: '/Media', remote: 's3:media', rcloneConfigPath },
      },
      'test',
    );
    const late: { agentJobs?: AgentJobs } = {};
    const { controller } = await startPortController({ agentJob: (jobId) => late.agentJobs!.agentJob(jobId) });
    late.agentJobs = new AgentJobs({
      config: () => config,
      jobs: controller.jobs,
      tokens: controller.tokens,
      controllerUrl: () => controller.server.url,
      controllerTls: undefined,
    });
    const { client } = agentClient(controller.server.wsUrl, controller.tokens.issue(JOB_ID, 'session'));
    await client.agent.hello.mutate({ protocolVersion: PROTOCOL_VERSION, agentVersion: '0.1.0', jobId: JOB_ID });
    const sent = (await client.agent.job.query()).secrets.rcloneConfig!;

    expect(Object.keys(dump(sent))).toEqual(['s3']);
    expect(dump(sent).s3).toMatchObject({ type: 's3', access_key_id: 'SCWMEDIAKEY', secret_access_key: 'media-secret' });
    for (const secret of ['ya29.private-drive-token', 'backup-password-obscured', 'crypt-password-obscured', 'b2-key']) expect(sent).not.toContain(secret);
  });

  it('a job whose remote has no section in rclone.conf fails before its machine exists, naming media.remote', async () => {
    const dir = createTempDir();
    const rcloneConfigPath = join(dir, 'rclone.conf');
    writeFileSync(rcloneConfigPath, RCLONE_CONF.replace('[s3]', '[s3-old]'), { mode: 0o600 });
    const config = parseConfig(
      {
        server: { stateDir: join(dir, 'state') },
        home: { plexDataDir: join(dir, 'pms'), control: { type: 'systemd', unit: 'plexmediaserver.service' } },
        media: { mountPath: '/Media', remote: 's3:media', rcloneConfigPath },
      },
      'test',
    );
    const { controller } = await startPortController();
    const job = controller.jobs.get(JOB_ID)!;
    await expect(stageHomeSide(job, { config, jobs: controller.jobs, transfers: controller.transfers })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/^media\.remote: "s3:media" names remote "s3", which has no \[s3\] section in .*rclone\.conf/),
    });
    expect(controller.transferStore.get(`${JOB_ID}-export`)).toBeUndefined(); // nothing was prepared
  });

  it('follows the remotes a remote wraps (alias → crypt → union → s3, b2), transitively, and no further', () => {
    const selected = selectRemoteConfig(RCLONE_CONF, [{ field: 'media.remote', remote: 'media-alias:' }], '/etc/rclone.conf');
    const parsed = dump(selected);
    expect(Object.keys(parsed).sort()).toEqual(['b2', 'layered', 'media-alias', 's3', 'vault']);
    expect(parsed.vault).toMatchObject({ type: 'crypt', remote: 'layered:vault' });
    expect(selected).not.toContain('private-drive-token');
    expect(selected).not.toContain('nas.example.net');
  });

  it('adds the remote a held archive is copied to, and none for an on-the-fly remote', () => {
    const selected = selectRemoteConfig(
      RCLONE_CONF,
      [
        { field: 'media.remote', remote: ':s3,provider=AWS:bucket' },
        { field: 'offline.archiveRemote', remote: 'backups:plexlift' },
      ],
      '/etc/rclone.conf',
    );
    expect(Object.keys(dump(selected))).toEqual(['backups']);
  });

  it('a remote without a section is a config error naming the field, the remote and the file', () => {
    const select = (remote: string) => () => selectRemoteConfig(RCLONE_CONF, [{ field: 'media.remote', remote }], '/etc/rclone.conf');
    expect(select('nowhere:media')).toThrow(PlexliftError);
    expect(select('nowhere:media')).toThrow(/^media\.remote: "nowhere:media" names remote "nowhere", which has no \[nowhere\] section in \/etc\/rclone\.conf/);
    expect(select('dangling:x')).toThrow(/media\.remote: remote "dangling" wraps "missing", which has no \[missing\] section/);
    expect(() => selectRemoteConfig('RCLONE_ENCRYPT_V0:\nabcdef', [{ field: 'media.remote', remote: 's3:media' }], '/etc/rclone.conf')).toThrow(
      /media\.rcloneConfigPath: \/etc\/rclone\.conf is encrypted/,
    );
  });

  it("reads rclone's remote syntax: a name with spaces, quoted union upstreams, combine directories, connection strings", () => {
    const conf = `${RCLONE_CONF}
[my s3]
type = s3
secret_access_key = spaced-secret

[spaced-alias]
type = alias
remote = my s3:bucket/movies

[quoted-union]
type = union
upstreams = "my s3:a b:ro" b2:photos

[combined]
type = combine
upstreams = "my dir=backups:x" photos=vault:y
`;
    const select = (remote: string) => Object.keys(dump(selectRemoteConfig(conf, [{ field: 'media.remote', remote }], '/etc/rclone.conf'))).sort();
    expect(select('spaced-alias:')).toEqual(['my s3', 'spaced-alias']);
    expect(select('quoted-union:')).toEqual(['b2', 'my s3', 'quoted-union']);
    expect(select('combined:')).toEqual(['b2', 'backups', 'combined', 'layered', 's3', 'vault']);
    // name,key=value:path is the section "s3" with a setting changed; a wrapper's `remote` set there replaces the section's
    expect(select('s3,region=nl-ams:bucket')).toEqual(['s3']);
    expect(select('vault,remote="backups:x",password=p:movies')).toEqual(['backups', 'vault']);
  });

  it('follows the remotes an on-the-fly wrapper names (a quoted value), and none for a local path', () => {
    const select = (remote: string) => Object.keys(dump(selectRemoteConfig(RCLONE_CONF, [{ field: 'media.remote', remote }], '/etc/rclone.conf'))).sort();
    expect(select(`:crypt,remote="vault:movies",password='x''y':films`)).toEqual(['b2', 'layered', 's3', 'vault']);
    expect(select(':union,upstreams="backups:a ""b2:c""":')).toEqual(['b2', 'backups']);
    expect(select(':crypt,remote=secret:movies')).toEqual([]); // rclone reads `secret` as a local folder
    expect(select('/srv/media:2024')).toEqual([]);
  });

  it('the selected config is enough for rclone itself to read an on-the-fly wrapper over a connection string', () => {
    const dir = createTempDir();
    mkdirSync(join(dir, 'data', 'films'), { recursive: true });
    writeFileSync(join(dir, 'data', 'films', 'movie.mkv'), 'x');
    const conf = `${RCLONE_CONF}\n[disk]\ntype = local\n\n[disk alias]\ntype = alias\nremote = disk,links:${dir}/data\n`;
    const remote = ':alias,remote="disk alias:films":';
    const file = join(dir, 'selected.conf');
    writeFileSync(file, selectRemoteConfig(conf, [{ field: 'media.remote', remote }], '/etc/rclone.conf'), { mode: 0o600 });
    expect(Object.keys(dump(readFileSync(file, 'utf8'))).sort()).toEqual(['disk', 'disk alias']);
    expect(execFileSync('rclone', ['lsf', '-R', '--config', file, remote], { encoding: 'utf8' })).toBe('movie.mkv\n');
  });

  it('a remote rclone cannot parse is a config error naming the field and the problem', () => {
    const select =
      (remote: string, conf = RCLONE_CONF) =>
      () =>
        selectRemoteConfig(conf, [{ field: 'offline.archiveRemote', remote }], '/etc/rclone.conf');
    expect(select(':crypt,remote="vault:x:path')).toThrow(
      /^offline\.archiveRemote: rclone cannot read the remote ":crypt,remote="vault:x:path": the quoted value of remote is not closed/,
    );
    expect(select(':crypt/x:path')).toThrow(/^offline\.archiveRemote: .*names its backend before any \//);
    expect(select('quoted:', `${RCLONE_CONF}\n[quoted]\ntype = alias\nremote = "s3:bucket"\n`)).toThrow(
      /^offline\.archiveRemote: rclone cannot read ""s3:bucket"", which remote "quoted" wraps: ""s3" is not a remote name/,
    );
  });
});
