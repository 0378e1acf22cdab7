import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';
import pkg from './package.json' with { type: 'json' };

export default defineConfig(libraryConfig(pkg));
