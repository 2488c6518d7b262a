import type { LakeStorage } from './LakeStorage.js';
import { FsLakeStorage } from './FsLakeStorage.js';

/** Where a command's lake is: an S3 bucket, else a local folder. */
export interface LakeLocation {
  readonly bucket?: string;
  readonly lake: string;
}

/**
 * The lake a command works on. The S3 storage, and with it the AWS SDK (a large share of a
 * command's start-up), loads only when a bucket is named.
 */
export async function openLake(location: LakeLocation): Promise<LakeStorage> {
  if (!location.bucket) return new FsLakeStorage(location.lake);
  const { S3LakeStorage } = await import('./S3LakeStorage.js');
  return new S3LakeStorage({ bucket: location.bucket });
}
