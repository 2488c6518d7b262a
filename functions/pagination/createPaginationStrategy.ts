/** Maps the YAML `pagination.type` discriminator to its strategy. */

import type { PaginationConfig } from '../config/sourceSchema.js';
import type { PaginationStrategy } from './PaginationStrategy.js';
import { withStopWhen, withStopWhenHeaders } from './stopConditions.js';
import { CursorPagination } from './strategies/CursorPagination.js';
import { HeaderCursorPagination } from './strategies/HeaderCursorPagination.js';
import { LinkHeaderPagination } from './strategies/LinkHeaderPagination.js';
import { NextUrlPagination } from './strategies/NextUrlPagination.js';
import { NoPagination } from './strategies/NoPagination.js';
import { offsetPagination } from './strategies/OffsetPagination.js';
import { pageNumberPagination } from './strategies/PageNumberPagination.js';

type Factories = { [K in PaginationConfig['type']]: (config: Extract<PaginationConfig, { type: K }>) => PaginationStrategy };

const FACTORIES: Factories = {
  none: () => new NoPagination(),
  page_number: pageNumberPagination,
  offset: offsetPagination,
  cursor: (config) => new CursorPagination(config),
  next_url: (config) => new NextUrlPagination(config),
  link_header: () => new LinkHeaderPagination(),
  header_cursor: (config) => new HeaderCursorPagination(config),
};

/** The strategy for a stream's pagination block, ending where its `stop_when` and `stop_when_headers` say too. */
export function createPaginationStrategy(config: PaginationConfig): PaginationStrategy {
  const strategy = (FACTORIES[config.type] as (c: PaginationConfig) => PaginationStrategy)(config);
  return withStopWhenHeaders(withStopWhen(strategy, config.stop_when), config.stop_when_headers);
}
