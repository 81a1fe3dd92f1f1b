import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (setup.sh installs it); nothing is downloaded at run time. */
export const CHROMIUM_PATH = process.env.PLEXLIFT_CHROMIUM ?? '/usr/bin/chromium';

/**
 * A headless Chromium as the machine's probe runs it: no sandbox (tests run as root), no GPU, and
 * no calls to the vendor's services (the tests talk to loopback only). `args` adds to these.
 */
export function launchChromium(args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...args,
    ],
  });
}
