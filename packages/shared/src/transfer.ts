// The data plane's contract: routes, the checksum header, the listing, the chunk sizes.
export * from './transfer/contract.js';
