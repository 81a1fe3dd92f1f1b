/**
 * Writes `systemd/plexlift-controller.service` and `systemd/plexlift.env.example`: the unit
 * `plexlift service install` renders, for a checkout in /usr/local/lib/plexlift and Debian's
 * plexmediaserver package (a test keeps the committed files equal to this rendering).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_UNIT_INPUT, renderControllerUnit, renderEnvironmentExample } from '../packages/controller/src/service/systemd-unit.js';

const dir = fileURLToPath(new URL('../systemd/', import.meta.url));
writeFileSync(`${dir}plexlift-controller.service`, renderControllerUnit(EXAMPLE_UNIT_INPUT));
writeFileSync(`${dir}plexlift.env.example`, renderEnvironmentExample());
