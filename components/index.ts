import type { AnyComponent } from '../src/discord/interactions/interactionKit.js';
import type { RouteName } from '../src/discord/interactions/customId.js';
import { cancelJob } from './cancelJob.js';
import { mjButton } from './mjButton.js';
import { mjButtonModal } from './mjButtonModal.js';
import { remix } from './remix.js';
import { remixModal } from './remixModal.js';
import { seed } from './seed.js';
import { settings } from './settings.js';
import { toolButton } from './toolButton.js';
import { toolButtonModal } from './toolButtonModal.js';

/** Every button, modal and select handler, one per custom_id route (the table in src/discord/interactions/customId.ts). */
export const componentsByRoute = {
  mjButton,
  mjButtonModal,
  remix,
  remixModal,
  toolButton,
  toolButtonModal,
  seed,
  settings,
  cancelJob,
} satisfies Record<RouteName, AnyComponent>;

export const allComponents: AnyComponent[] = Object.values(componentsByRoute);
