import { chromium, type Browser } from 'playwright-core';

/** Debian's headless Chromium (`CHROMIUM` names another binary), as the dashboard tests drive it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
