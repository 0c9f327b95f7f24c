/**
 * The pictures themselves: an image's bytes at one of the sizes Mapillary serves. The API gives a
 * signed URL on its CDN for each size (`thumb_1024_url`, ...); those URLs expire, so one is asked
 * for every time, and once more when the CDN refuses it as expired. The bytes are fetched with no
 * credential at all (the URL is signed), and refused past a size cap.
 */
import type { CallOptions } from '../transport/types';
import type { Transport } from '../transport/transport';
import { InvalidInputError, isMapillaryError, MalformedResponseError, NotFoundError } from '../errors';
import { entity, type GraphItem } from './v4';

export const PICTURE_SIZES = ['256', '1024', '2048', 'original'] as const;
export type PictureSize = (typeof PICTURE_SIZES)[number];

/** What a picture comes with: where and when it was taken, by whom, which way. */
export const PICTURE_FIELDS = ['id', 'geometry', 'captured_at', 'compass_angle', 'creator', 'width', 'height', 'is_pano', 'sequence'] as const;

/** Pictures larger than this are refused unless a larger cap is given (an original can be tens of MB). */
export const DEFAULT_PICTURE_MAX_BYTES = 25 * 1024 * 1024;

export interface Picture {
  /** The image's fields (PICTURE_FIELDS), without the signed URL. */
  image: GraphItem;
  size: PictureSize;
  bytes: Buffer;
  /** As the CDN said, else image/jpeg (Mapillary serves JPEG). */
  contentType: string;
}

export interface PictureOptions extends CallOptions {
  /** Refuse a picture larger than this many bytes (MAPILLARY_TOO_LARGE). */
  maxBytes?: number;
}

export function parsePictureSize(value: unknown): PictureSize {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text === 'string' && (PICTURE_SIZES as readonly string[]).includes(text.trim())) return text.trim() as PictureSize;
  throw new InvalidInputError(`picture size: expected one of ${PICTURE_SIZES.join(', ')}`);
}

/** An expired or refused signed URL: the CDN answers 403 (or 410). */
const expired = (error: unknown): boolean => isMapillaryError(error) && (error.status === 403 || error.status === 410);

export async function picture(transport: Transport, id: unknown, sizeInput: unknown, options: PictureOptions = {}): Promise<Picture> {
  const size = parsePictureSize(sizeInput);
  const maxBytes = options.maxBytes ?? DEFAULT_PICTURE_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new InvalidInputError('picture: max bytes must be a whole number of bytes');
  const field = `thumb_${size}_url`;
  for (let round = 1; ; round++) {
    // A fresh signed URL each time: they expire.
    const image = await entity(transport, id, [...PICTURE_FIELDS, field], PICTURE_FIELDS, options);
    const signed = image[field];
    if (typeof signed !== 'string' || signed === '') throw new NotFoundError(`Mapillary GET /${image.id}: no ${size} picture of this image`, { endpoint: `GET /${image.id}` });
    let url: URL;
    try {
      url = new URL(signed);
    } catch {
      throw new MalformedResponseError(`Mapillary GET /${image.id}: the ${size} picture URL is not a URL`, { endpoint: `GET /${image.id}` });
    }
    try {
      const { bytes, contentType } = await transport.download(url, maxBytes, options);
      const { [field]: _signed, ...fields } = image;
      return { image: fields as GraphItem, size, bytes, contentType: contentType ?? 'image/jpeg' };
    } catch (error) {
      // The URL expired between the two requests: once more with a new one.
      if (round === 1 && expired(error)) continue;
      throw error;
    }
  }
}
