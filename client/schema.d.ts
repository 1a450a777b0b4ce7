// Generated from openapi.yaml by `npm run generate:client`. Do not edit.

export interface paths {
  '/v1/media/init': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Start an upload
     * @description Creates the media record (`pending_upload`) and returns a presigned PUT URL for its bytes,
     *     valid for 15 minutes, or above 32 MiB presigned URLs for its parts, valid for an hour
     *     (complete them with `POST /v1/media/{media_id}/complete`). Media not attached to a tweet
     *     within 24 hours is removed.
     */
    post: operations['initMedia'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/media/{media_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Read a media object
     * @description Its owner can always read it; anyone can once it is attached to a tweet or is an avatar. Poll it after
     *     `check_after_secs` while that field is present.
     */
    get: operations['getMedia'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/media/{media_id}/complete': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Finish an upload in parts
     * @description Checks the listed parts against the ones S3 holds and assembles them into the upload;
     *     processing then starts as after a single PUT. Completing an upload already completed
     *     returns the media as it is (`200`), so a retry is safe.
     */
    post: operations['completeMediaUpload'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tweets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Create a tweet
     * @description The tweet, its media attachments and the idempotency record are written in one
     *     transaction. With an `Idempotency-Key`, the same key (per user) and the same body within
     *     24 hours return the same tweet with `200`, never a second tweet.
     */
    post: operations['createTweet'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tweets/{tweet_id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A tweet id; anything else is answered `404 tweet_not_found`. */
        tweet_id: components['parameters']['TweetId'];
      };
      cookie?: never;
    };
    /**
     * Read a tweet
     * @description Media status is current; once processing finishes, GET shows `ready` within 2 s.
     */
    get: operations['getTweet'];
    put?: never;
    post?: never;
    /**
     * Delete your own tweet
     * @description Afterwards GET returns 404 and the tweet leaves every timeline. Its media is detached and
     *     cleaned up by the media sweeper.
     */
    delete: operations['deleteTweet'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/timeline': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Your home timeline
     * @description Your own tweets and those of everyone you follow, newest first, up to 800 entries deep.
     */
    get: operations['getTimeline'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/me': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Your profile
     * @description The caller's profile. A user exists from their first authenticated call to any route,
     *     which creates their profile with a generated handle (the user id when it is a free valid
     *     handle, else `user_` and 12 hex digits), with
     *     `handle_generated: true` until they choose one with `PUT /v1/me/profile`.
     */
    get: operations['getMe'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/me/profile': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Change your profile
     * @description Changes the fields given, all in one transaction; fields left out stay as they are. A new
     *     handle is claimed and the old one released at once (anyone may claim it next). A new
     *     avatar is an image you uploaded with `POST /v1/media/init` and not attached to a tweet; it
     *     may still be processing (its `status` says so) and the old avatar is removed.
     */
    put: operations['updateProfile'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/profiles/{handle}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A user by handle
     * @description The user holding this handle (in any case), and whether you follow them. Follow them with
     *     their `user_id`.
     */
    get: operations['getProfile'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/users/{user_id}/tweets': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A user id; anything else is answered `400 invalid_request`. */
        user_id: components['parameters']['UserId'];
      };
      cookie?: never;
    };
    /**
     * A user's tweets
     * @description That user's complete history, newest first.
     */
    get: operations['listUserTweets'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/users/{user_id}/follow': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A user id; anything else is answered `400 invalid_request`. */
        user_id: components['parameters']['UserId'];
      };
      cookie?: never;
    };
    get?: never;
    /**
     * Follow a user
     * @description Idempotent. The followee's recent tweets are backfilled into your home timeline. Only a
     *     user who exists (has called the API at least once) can be followed.
     */
    put: operations['followUser'];
    post?: never;
    /**
     * Unfollow a user
     * @description Idempotent. The followee's tweets leave your home timeline. Unfollowing an id that is no
     *     user answers 204 as well: you do not follow them, and nothing is written.
     */
    delete: operations['unfollowUser'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /** @example alice */
    UserId: string;
    /**
     * @description A ULID with fresh randomness. Opaque to clients.
     * @example 01JD2W6Q9V7Z5K8M3N4P5R6S7T
     */
    MediaId: string;
    /**
     * @description Opaque to clients. (It is `{ULID}-{user_id}`: it sorts by creation time and names its
     *     author.)
     * @example 01JD2WA3M0XK3Q8Y6N5V4T2R1P-alice
     */
    TweetId: string;
    /** @description Opaque base64url; pass `next_cursor` back unchanged. */
    Cursor: string;
    /**
     * Format: date-time
     * @description ISO-8601 UTC with milliseconds.
     * @example 2026-11-25T16:20:31.123Z
     */
    Timestamp: string;
    InitMediaRequest: {
      /**
       * @description One of `image/jpeg`, `image/png`, `image/webp`, `image/gif`, `video/mp4`,
       *     `video/quicktime`, matched case-insensitively; any other string is answered
       *     `415 unsupported_media_type`.
       * @example image/jpeg
       */
      content_type: string;
      /**
       * @description The exact size of the upload. At most 16 MiB (JPEG, PNG, WebP), 15 MiB (GIF) or 512 MiB
       *     (MP4, QuickTime); above the type's limit is answered `413 media_too_large`.
       * @example 2483001
       */
      size_bytes: number;
      /**
       * @description At most 1000 code points after NFC (not expressible in JSON Schema, which counts code
       *     points before normalisation), no control characters other than tab, LF and CR.
       * @example A heron on a post
       */
      alt_text?: string | null;
    };
    /** @description `upload_method` tells the two apart: `PUT` (one request) or `PARTS`. */
    MediaUpload: components['schemas']['SinglePutUpload'] | components['schemas']['PartsUpload'];
    SinglePutUpload: {
      media_id: components['schemas']['MediaId'];
      /** @constant */
      status: 'pending_upload';
      /**
       * Format: uri
       * @description Presigned S3 URL; Content-Type, Content-Length and If-None-Match are signed.
       */
      upload_url: string;
      /** @constant */
      upload_method: 'PUT';
      /**
       * @description Send exactly these. A browser sets `content-length` itself (fetch and XMLHttpRequest
       *     refuse to set it); any other client must send it.
       */
      upload_headers: {
        'content-type': string;
        'content-length': string;
        /**
         * @description `*`: S3 creates the object only if the key is free (one-shot URL).
         * @constant
         */
        'if-none-match': '*';
      };
      expires_at: components['schemas']['Timestamp'];
    };
    PartsUpload: {
      media_id: components['schemas']['MediaId'];
      /** @constant */
      status: 'pending_upload';
      /** @constant */
      upload_method: 'PARTS';
      /** @description Size of every part but the last (8 MiB). */
      part_size_bytes: number;
      /** @description One entry per part, in order; PUT them in any order. */
      parts: components['schemas']['UploadPart'][];
      expires_at: components['schemas']['Timestamp'];
    };
    UploadPart: {
      part_number: number;
      /**
       * Format: uri
       * @description Presigned S3 UploadPart URL; its Content-Length is signed.
       */
      url: string;
      /** @description The part's exact length; send it as Content-Length (browsers do so themselves). */
      size_bytes: number;
    };
    CompleteUploadRequest: {
      parts: {
        part_number: number;
        /** @description The `ETag` header S3 returned for the part, quoted or not. */
        etag: string;
      }[];
    };
    /**
     * @description `pending_upload` (waiting for the PUT) → `processing` → `ready` or `failed`. Media attached
     *     to a tweet or used as an avatar shows `processing` until its variants are on the CDN (a
     *     moment after the transcoder finishes), so a `ready` media's URLs answer.
     * @enum {string}
     */
    MediaStatus: 'pending_upload' | 'processing' | 'ready' | 'failed';
    MediaVariant: {
      /**
       * @description Images get each size as WebP and JPEG; videos get `video` and a `poster`.
       * @enum {string}
       */
      name: 'large' | 'medium' | 'small' | 'thumb' | 'video' | 'poster';
      /**
       * Format: uri
       * @description CDN URL (`CDN_BASE_URL` + `/` + the processed key). Served only while the media is
       *     attached to a tweet or is a profile's avatar: before (the owner's view of unattached
       *     media) it answers 403, and after the tweet is deleted (or the avatar replaced) it
       *     stops within an hour (docs/media.md). Originals are never served.
       */
      url: string;
      /** @enum {string} */
      content_type: 'image/webp' | 'image/jpeg' | 'video/mp4';
      width: number;
      height: number;
      bytes: number;
    };
    MediaFailure: {
      /** @enum {string} */
      code:
        | 'empty_upload'
        | 'size_mismatch'
        | 'media_too_large'
        | 'upload_missing'
        | 'unsupported_format'
        | 'content_type_mismatch'
        | 'image_too_large'
        | 'corrupt_media'
        | 'unsupported_codec'
        | 'video_too_long'
        | 'frame_rate_too_high'
        | 'video_too_large'
        | 'processing_timeout'
        | 'processing_error'
        | 'expired'
        | 'tweet_deleted';
      /** @description Written for the person who uploaded the file. */
      message: string;
    };
    Media: {
      media_id: components['schemas']['MediaId'];
      status: components['schemas']['MediaStatus'];
      /**
       * @description The declared type, lower-cased.
       * @enum {string}
       */
      content_type:
        'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif' | 'video/mp4' | 'video/quicktime';
      size_bytes: number;
      alt_text: string | null;
      /** @description Present once known. */
      width?: number;
      /** @description Present once known. */
      height?: number;
      /** @description Videos, once known. */
      duration_ms?: number;
      /** @description Present once known. */
      blurhash?: string;
      /** @description Empty until `ready`. */
      variants: components['schemas']['MediaVariant'][];
      /** @description Set when `status` is `failed`, else null. */
      failure: components['schemas']['MediaFailure'] | null;
      /**
       * @description Present only while the media is still changing (`pending_upload`: 2, `processing`: 1):
       *     poll again after that many seconds.
       */
      check_after_secs?: number;
    };
    CreateTweetRequest: {
      /**
       * @description Normalised to NFC, then at most 280 code points (not expressible in JSON Schema, which
       *     counts before normalisation: over-long text is answered `400 text_too_long`). May be
       *     empty only when media is attached. Tab, LF and CR are kept byte-exact; other control
       *     characters are refused.
       * @example Hello, Chirp!
       */
      text: string;
      /**
       * @description At most 4 (`400 too_many_media` above), or exactly one GIF or video. Each must exist,
       *     be yours, not be `failed` and not be attached to a tweet; it may still be
       *     `pending_upload` or `processing`.
       */
      media_ids?: components['schemas']['MediaId'][];
    };
    Tweet: {
      tweet_id: components['schemas']['TweetId'];
      user_id: components['schemas']['UserId'];
      text: string;
      created_at: components['schemas']['Timestamp'];
      /** @description In the order they were attached. */
      media: components['schemas']['Media'][];
      author?: components['schemas']['Author'];
    };
    /**
     * @description The author's handle, display name and avatar, present once the author has a profile (has
     *     called `GET /v1/me`). Cached with the tweet: a profile change refreshes the author's newest
     *     200 tweets at once; an older tweet still in the cache shows the previous values for at most
     *     an hour.
     */
    Author: {
      handle: components['schemas']['Handle'];
      display_name: string;
      /** @description The avatar's square JPEG (`thumb`) on the CDN once ready; else null. */
      avatar_url: string | null;
    };
    Page: {
      /**
       * @description Newest first. May hold fewer than `limit` (a tweet deleted a moment ago is skipped)
       *     while `next_cursor` is set: keep paging until it is null.
       */
      tweets: components['schemas']['Tweet'][];
      next_cursor: components['schemas']['Cursor'] | null;
    };
    /**
     * @description 3 to 30 letters, digits or underscores; unique case-insensitively.
     * @example alice_1
     */
    Handle: string;
    /**
     * @description The avatar's media object, with only its square variants (`thumb`, WebP and JPEG) once
     *     `ready`; while it is `pending_upload` or `processing`, show its blurhash and poll
     *     `GET /v1/media/{media_id}` after `check_after_secs`.
     */
    Avatar: components['schemas']['Media'];
    ProfileFields: {
      user_id: components['schemas']['UserId'];
      handle: components['schemas']['Handle'];
      /** @description At most 50 code points (NFC), one line; empty when not set. */
      display_name: string;
      /** @description At most 160 code points (NFC); empty when not set. */
      bio: string;
      avatar: components['schemas']['Avatar'] | null;
      follower_count: number;
      following_count: number;
    };
    Profile: components['schemas']['ProfileFields'];
    Me: components['schemas']['ProfileFields'] & {
      /** @description True until you choose a handle (a new user's first sign-in). */
      handle_generated: boolean;
    };
    User: components['schemas']['ProfileFields'] & {
      /** @description Whether you follow this user. */
      following: boolean;
    };
    UpdateProfileRequest: {
      handle?: components['schemas']['Handle'];
      /** @description At most 50 code points after NFC; one line; surrounding spaces are trimmed. */
      display_name?: string;
      /** @description At most 160 code points after NFC. Tab, LF and CR are kept. */
      bio?: string;
      /** @description An image media id of yours (see the operation), or null to remove the avatar. */
      avatar_media_id?: components['schemas']['MediaId'] | null;
    };
    /** @description An answer of API Gateway itself (no handler ran, or the handler failed). */
    GatewayMessage: {
      /** @enum {string} */
      message:
        | 'Unauthorized'
        | 'Not Found'
        | 'Request Entity Too Large'
        | 'Too Many Requests'
        | 'Internal Server Error'
        | 'Service Unavailable';
    };
    GatewayUnauthorized: {
      /** @constant */
      message: 'Unauthorized';
    };
    GatewayNotFound: {
      /** @constant */
      message: 'Not Found';
    };
    ErrorDetail: {
      code: string;
      /** @description For developers; may change. Branch on `code`. */
      message: string;
    };
    InvalidRequestError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'invalid_request';
      };
    };
    CreateTweetBadRequestError: components['schemas']['ApiError'] & {
      error?: {
        /** @enum {unknown} */
        code?: 'invalid_request' | 'text_too_long' | 'too_many_media';
      };
    };
    CreateTweetUnprocessableError: components['schemas']['ApiError'] & {
      error?: {
        /** @enum {unknown} */
        code?:
          'media_not_found' | 'media_failed' | 'media_already_attached' | 'idempotency_key_reused';
      };
    };
    UpdateProfileBadRequestError: components['schemas']['ApiError'] & {
      error?: {
        /** @enum {unknown} */
        code?: 'invalid_request' | 'invalid_handle' | 'display_name_too_long' | 'bio_too_long';
      };
    };
    UpdateProfileUnprocessableError: components['schemas']['ApiError'] & {
      error?: {
        /** @enum {unknown} */
        code?: 'media_not_found' | 'avatar_not_image' | 'media_failed' | 'media_already_attached';
      };
    };
    HandleTakenError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'handle_taken';
      };
    };
    UserNotFoundError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'user_not_found';
      };
    };
    CompleteUploadBadRequestError: components['schemas']['ApiError'] & {
      error?: {
        /** @enum {unknown} */
        code?: 'invalid_request' | 'upload_parts_incomplete';
      };
    };
    CompleteUploadConflictError: components['schemas']['ApiError'] & {
      error?: {
        /** @enum {unknown} */
        code?:
          'upload_part_missing' | 'upload_part_mismatch' | 'upload_not_found' | 'not_multipart';
      };
    };
    RateLimitedError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'rate_limited';
      };
    };
    UploadThrottledError: components['schemas']['ApiError'] & {
      error?: {
        /** @enum {unknown} */
        code?: 'rate_limited' | 'too_many_pending_uploads' | 'upload_budget_exceeded';
      };
    };
    FollowingLimitError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'following_limit_reached';
      };
    };
    MediaTooLargeError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'media_too_large';
      };
    };
    UnsupportedMediaTypeError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'unsupported_media_type';
      };
    };
    MediaNotFoundError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'media_not_found';
      };
    };
    TweetNotFoundError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'tweet_not_found';
      };
    };
    UnauthorizedError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'unauthorized';
      };
    };
    InternalError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'internal_error';
      };
    };
    ServiceUnavailableError: components['schemas']['ApiError'] & {
      error?: {
        /** @constant */
        code?: 'service_unavailable';
      };
    };
    /** @description Every error a handler answers: `{"error": {"code", "message"}}`. */
    ApiError: {
      error: components['schemas']['ErrorDetail'];
    };
  };
  responses: {
    /**
     * @description API Gateway's JWT authorizer refused the request (no token, a bad signature, wrong issuer
     *     or audience, expired): `{"message": "Unauthorized"}`, before any handler ran. Or the
     *     handler's `unauthorized` when a valid token's `sub` is not a valid user id.
     */
    Unauthorized: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content: {
        'application/json':
          components['schemas']['GatewayUnauthorized'] | components['schemas']['UnauthorizedError'];
      };
    };
    /**
     * @description API Gateway: no route matches the method and path (an empty or extra path segment, an
     *     unknown method): `{"message": "Not Found"}`.
     */
    RouteNotFound: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['GatewayNotFound'];
      };
    };
    /** @description API Gateway: the request body is over 10 MiB: `{"message": "Request Entity Too Large"}`. */
    PayloadTooLarge: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['GatewayMessage'];
      };
    };
    /**
     * @description `rate_limited`: the caller spent this route's budget (reads, writes or media inits per
     *     caller; docs/operations.md); nothing was written. Retry after `Retry-After` seconds. Or API
     *     Gateway's `{"message": "Too Many Requests"}` when the stage's throttling limit was hit (no
     *     `Retry-After`): retry with backoff.
     */
    Throttled: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        'retry-after': components['headers']['OptionalRetryAfter'];
        [name: string]: unknown;
      };
      content: {
        'application/json':
          components['schemas']['RateLimitedError'] | components['schemas']['GatewayMessage'];
      };
    };
    /**
     * @description As `Throttled`, and the caller's upload quota: `too_many_pending_uploads` (upload URLs still
     *     valid and unused, at most 20; `Retry-After` until the oldest expires) or
     *     `upload_budget_exceeded` (bytes declared today, at most 2 GiB; `Retry-After` until
     *     midnight UTC). Nothing was written.
     */
    UploadThrottled: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        'retry-after': components['headers']['OptionalRetryAfter'];
        [name: string]: unknown;
      };
      content: {
        'application/json':
          components['schemas']['UploadThrottledError'] | components['schemas']['GatewayMessage'];
      };
    };
    /**
     * @description `user_not_found`: no user has this id: a user exists from their first authenticated call.
     *     Nothing was written.
     */
    UserNotFound: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['UserNotFoundError'];
      };
    };
    /**
     * @description `following_limit_reached`: the caller follows the most accounts allowed (5,000 by
     *     default); nothing was written. Unfollow some first.
     */
    FollowingLimit: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['FollowingLimitError'];
      };
    };
    /**
     * @description A bug, never caused by input: the handler's `internal_error`, or API Gateway's
     *     `{"message": "Internal Server Error"}` when the function crashed or answered malformed.
     */
    InternalError: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content: {
        'application/json':
          components['schemas']['InternalError'] | components['schemas']['GatewayMessage'];
      };
    };
    /**
     * @description `service_unavailable`: DynamoDB is unreachable or throttling; nothing was half-written. Retry
     *     after `Retry-After` seconds. (API Gateway answers `{"message": "Service Unavailable"}` when
     *     the function timed out; that body has no `Retry-After`.)
     */
    ServiceUnavailable: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        'retry-after': components['headers']['RetryAfter'];
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['ServiceUnavailableError'];
      };
    };
    /**
     * @description `tweet_not_found`: no such tweet, a deleted one, a malformed id, or (for DELETE) someone
     *     else's tweet (indistinguishable on purpose).
     */
    TweetNotFound: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['TweetNotFoundError'];
      };
    };
    /** @description A page of tweets, newest first. */
    Page: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Page'];
      };
    };
    /**
     * @description `invalid_request`: a malformed `user_id`, a `limit` that is not an integer from 1 to 100
     *     (`-1`, `0`, `101`, `1e9`, `abc`, empty), or a cursor this listing did not issue.
     */
    BadPaging: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['InvalidRequestError'];
      };
    };
    /** @description Done (also when nothing changed). */
    FollowDone: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content?: never;
    };
    /** @description `invalid_request`: a malformed `user_id`, or yourself. */
    BadFollowee: {
      headers: {
        'apigw-requestid': components['headers']['RequestId'];
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['InvalidRequestError'];
      };
    };
  };
  parameters: {
    /** @description A media id; anything else is answered `404 media_not_found`. */
    MediaId: components['schemas']['MediaId'];
    /** @description A tweet id; anything else is answered `404 tweet_not_found`. */
    TweetId: components['schemas']['TweetId'];
    /** @description A user id; anything else is answered `400 invalid_request`. */
    UserId: components['schemas']['UserId'];
    /** @description A handle, in any case; anything else is answered `404 user_not_found`. */
    Handle: components['schemas']['Handle'];
    /** @description Page size. Digits only; anything else is answered `400 invalid_request`. */
    Limit: number;
    /**
     * @description `next_cursor` of the previous page, unchanged. Any other value (edited, truncated, from
     *     another listing) is answered `400 invalid_request`.
     */
    Cursor: components['schemas']['Cursor'];
    /** @description Makes retries safe for 24 hours (per user). 1 to 128 printable ASCII characters. */
    IdempotencyKey: string;
  };
  requestBodies: {
    /**
     * @description A JSON object (`application/json` or `application/*+json`, UTF-8). Unknown properties are
     *     ignored.
     */
    InitMedia: {
      content: {
        'application/json': components['schemas']['InitMediaRequest'];
      };
    };
    /**
     * @description A JSON object (`application/json` or `application/*+json`, UTF-8). Unknown properties are
     *     ignored.
     */
    CreateTweet: {
      content: {
        'application/json': components['schemas']['CreateTweetRequest'];
      };
    };
    /**
     * @description A JSON object (`application/json` or `application/*+json`, UTF-8) with at least one of the
     *     fields. Unknown properties are ignored.
     */
    UpdateProfile: {
      content: {
        'application/json': components['schemas']['UpdateProfileRequest'];
      };
    };
  };
  headers: {
    /** @description API Gateway's id of this request (quote it when reporting a problem). */
    RequestId: string;
    /** @description Seconds to wait before retrying. */
    RetryAfter: string;
    /** @description Seconds to wait before retrying (sent with the handler's 429s, not API Gateway's). */
    OptionalRetryAfter: string;
  };
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  initMedia: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: components['requestBodies']['InitMedia'];
    responses: {
      /** @description The media record exists; PUT the bytes to `upload_url`, or each part to its URL. */
      201: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MediaUpload'];
        };
      };
      /**
       * @description `invalid_request`: the body is not a JSON object (or not UTF-8, or has the wrong
       *     Content-Type); `content_type` is not a string; `size_bytes` is missing, not an integer or
       *     below 1; `alt_text` is not a string or null, holds control characters, or is longer than
       *     1000 code points after NFC.
       */
      400: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['InvalidRequestError'];
        };
      };
      401: components['responses']['Unauthorized'];
      /**
       * @description `media_too_large` from the handler: `size_bytes` is above the type's limit (16 MiB for
       *     JPEG, PNG and WebP; 15 MiB for GIF; 512 MiB for MP4 and QuickTime). Or API Gateway's own
       *     413 for a request body over 10 MiB.
       */
      413: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json':
            components['schemas']['MediaTooLargeError'] | components['schemas']['GatewayMessage'];
        };
      };
      /** @description `unsupported_media_type`: `content_type` is not one of the accepted types. */
      415: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['UnsupportedMediaTypeError'];
        };
      };
      429: components['responses']['UploadThrottled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  getMedia: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A media id; anything else is answered `404 media_not_found`. */
        media_id: components['parameters']['MediaId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The media object. */
      200: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Media'];
        };
      };
      401: components['responses']['Unauthorized'];
      /**
       * @description `media_not_found`: no such media, a malformed id, or someone else's unattached media
       *     (indistinguishable on purpose).
       */
      404: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MediaNotFoundError'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  completeMediaUpload: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A media id; anything else is answered `404 media_not_found`. */
        media_id: components['parameters']['MediaId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CompleteUploadRequest'];
      };
    };
    responses: {
      /** @description The media, now `pending_upload` until the transcoder claims it, or later. */
      200: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Media'];
        };
      };
      /**
       * @description `invalid_request`: the body is not a JSON object with a non-empty `parts` array of
       *     `{ part_number, etag }`. `upload_parts_incomplete`: the list does not name each part of
       *     the upload exactly once.
       */
      400: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CompleteUploadBadRequestError'];
        };
      };
      401: components['responses']['Unauthorized'];
      /** @description `media_not_found`: no such media, a malformed id, or someone else's media. */
      404: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MediaNotFoundError'];
        };
      };
      /**
       * @description `upload_part_missing`: S3 has not received a listed part (upload it, then complete
       *     again). `upload_part_mismatch`: S3 holds another part under that number than the
       *     listed ETag. `upload_not_found`: the upload was aborted (the media expired).
       *     `not_multipart`: the media was uploaded with a single PUT. Nothing changed.
       */
      409: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CompleteUploadConflictError'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  createTweet: {
    parameters: {
      query?: never;
      header?: {
        /** @description Makes retries safe for 24 hours (per user). 1 to 128 printable ASCII characters. */
        'Idempotency-Key'?: components['parameters']['IdempotencyKey'];
      };
      path?: never;
      cookie?: never;
    };
    requestBody: components['requestBodies']['CreateTweet'];
    responses: {
      /** @description An idempotent replay; the tweet created by the first request. */
      200: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Tweet'];
        };
      };
      /** @description The new tweet, its media in their current state. */
      201: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Tweet'];
        };
      };
      /**
       * @description `invalid_request`: the body is not a JSON object (malformed JSON, invalid UTF-8, wrong
       *     Content-Type); `text` missing or not a string; empty text without media; control
       *     characters other than tab, LF and CR; `media_ids` not an array, holding non-ids or
       *     repeating an id; a malformed `Idempotency-Key`.
       *     `text_too_long`: over 280 code points after NFC.
       *     `too_many_media`: more than 4 ids, or a GIF or video together with other media.
       */
      400: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CreateTweetBadRequestError'];
        };
      };
      401: components['responses']['Unauthorized'];
      /**
       * @description `tweet_not_found`: an idempotent replay whose tweet was deleted since (still no second
       *     tweet).
       */
      404: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TweetNotFoundError'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      /**
       * @description `media_not_found`: an id that does not exist, is someone else's, or belonged to a
       *     deleted tweet. `media_failed`: its processing failed. `media_already_attached`: it is
       *     attached to another tweet. `idempotency_key_reused`: the key was used with another body.
       */
      422: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CreateTweetUnprocessableError'];
        };
      };
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  getTweet: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A tweet id; anything else is answered `404 tweet_not_found`. */
        tweet_id: components['parameters']['TweetId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The tweet. */
      200: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Tweet'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['TweetNotFound'];
      413: components['responses']['PayloadTooLarge'];
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  deleteTweet: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A tweet id; anything else is answered `404 tweet_not_found`. */
        tweet_id: components['parameters']['TweetId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content?: never;
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['TweetNotFound'];
      413: components['responses']['PayloadTooLarge'];
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  getTimeline: {
    parameters: {
      query?: {
        /** @description Page size. Digits only; anything else is answered `400 invalid_request`. */
        limit?: components['parameters']['Limit'];
        /**
         * @description `next_cursor` of the previous page, unchanged. Any other value (edited, truncated, from
         *     another listing) is answered `400 invalid_request`.
         */
        cursor?: components['parameters']['Cursor'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: components['responses']['Page'];
      400: components['responses']['BadPaging'];
      401: components['responses']['Unauthorized'];
      413: components['responses']['PayloadTooLarge'];
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  getMe: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The caller's profile. */
      200: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Me'];
        };
      };
      401: components['responses']['Unauthorized'];
      413: components['responses']['PayloadTooLarge'];
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  updateProfile: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: components['requestBodies']['UpdateProfile'];
    responses: {
      /** @description The profile as changed. */
      200: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Profile'];
        };
      };
      /**
       * @description `invalid_request`: the body is not a JSON object, has none of the fields, or a field of
       *     the wrong type; control characters, or a line break in `display_name`.
       *     `invalid_handle`: not 3 to 30 of `A-Z`, `a-z`, `0-9`, `_`.
       *     `display_name_too_long`: over 50 code points after NFC. `bio_too_long`: over 160.
       */
      400: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['UpdateProfileBadRequestError'];
        };
      };
      401: components['responses']['Unauthorized'];
      /**
       * @description `handle_taken`: another user holds this handle (compared case-insensitively). Nothing
       *     was written.
       */
      409: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HandleTakenError'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      /**
       * @description `media_not_found`: the avatar media does not exist, is someone else's or was removed.
       *     `avatar_not_image`: it is not a JPEG, PNG or WebP image. `media_failed`: its processing
       *     failed. `media_already_attached`: it is attached to a tweet. Nothing was written.
       */
      422: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['UpdateProfileUnprocessableError'];
        };
      };
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  getProfile: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A handle, in any case; anything else is answered `404 user_not_found`. */
        handle: components['parameters']['Handle'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The user's profile. */
      200: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['User'];
        };
      };
      401: components['responses']['Unauthorized'];
      /** @description `user_not_found`: nobody holds this handle, or it is not a valid handle. */
      404: {
        headers: {
          'apigw-requestid': components['headers']['RequestId'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['UserNotFoundError'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  listUserTweets: {
    parameters: {
      query?: {
        /** @description Page size. Digits only; anything else is answered `400 invalid_request`. */
        limit?: components['parameters']['Limit'];
        /**
         * @description `next_cursor` of the previous page, unchanged. Any other value (edited, truncated, from
         *     another listing) is answered `400 invalid_request`.
         */
        cursor?: components['parameters']['Cursor'];
      };
      header?: never;
      path: {
        /** @description A user id; anything else is answered `400 invalid_request`. */
        user_id: components['parameters']['UserId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: components['responses']['Page'];
      400: components['responses']['BadPaging'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['UserNotFound'];
      413: components['responses']['PayloadTooLarge'];
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  followUser: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A user id; anything else is answered `400 invalid_request`. */
        user_id: components['parameters']['UserId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: components['responses']['FollowDone'];
      400: components['responses']['BadFollowee'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['UserNotFound'];
      413: components['responses']['PayloadTooLarge'];
      422: components['responses']['FollowingLimit'];
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
  unfollowUser: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A user id; anything else is answered `400 invalid_request`. */
        user_id: components['parameters']['UserId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: components['responses']['FollowDone'];
      400: components['responses']['BadFollowee'];
      401: components['responses']['Unauthorized'];
      413: components['responses']['PayloadTooLarge'];
      429: components['responses']['Throttled'];
      500: components['responses']['InternalError'];
      503: components['responses']['ServiceUnavailable'];
    };
  };
}
