/**
 * Your profile: handle, display name, bio and avatar. A new user's generated handle leads here
 * (the header says so). What the API would refuse is refused first in its words (../rules.ts);
 * the avatar goes up like a tweet's media (init, presigned PUT with progress) and is set with the
 * other fields in one PUT /v1/me/profile, then shows "processing…" until its variants are ready.
 */
import { useState } from 'preact/hooks';
import { uploadMedia, type Me } from '../../../client';
import { errorMessage, unwrap, type ChirpClient } from '../api';
import {
  AVATAR_TYPES,
  BIO_MAX_CODE_POINTS,
  codePointCount,
  DISPLAY_NAME_MAX_CODE_POINTS,
  fileProblem,
  profileProblems,
} from '../rules';
import { Avatar } from './Avatar';

export function ProfileEditor({
  api,
  me,
  onSaved,
}: {
  api: ChirpClient;
  me: Me;
  onSaved: (me: Me) => void;
}) {
  const [handle, setHandle] = useState(me.handle_generated ? '' : me.handle);
  const [displayName, setDisplayName] = useState(me.display_name);
  const [bio, setBio] = useState(me.bio);
  const [avatar, setAvatar] = useState<File>();
  const [progress, setProgress] = useState<number>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);

  const problems = profileProblems({ handle, displayName, bio });
  const shownProblems = handle === '' ? problems.slice(1) : problems;

  const pick = (list: FileList | null) => {
    setError(undefined);
    const file = list?.[0];
    if (file === undefined) return;
    const problem =
      fileProblem(file) ??
      ((AVATAR_TYPES as readonly string[]).includes(file.type)
        ? undefined
        : 'An avatar must be a JPEG, PNG or WebP image');
    if (problem !== undefined) setError(`${file.name}: ${problem}`);
    else setAvatar(file);
  };

  const save = async (event: Event) => {
    event.preventDefault();
    if (problems.length > 0 || saving) return;
    setSaving(true);
    setSaved(false);
    setError(undefined);
    try {
      let avatarId: string | undefined;
      if (avatar !== undefined) {
        const upload = await uploadMedia(
          api,
          { bytes: avatar, contentType: avatar.type },
          { onProgress: ({ loaded, total }) => setProgress(loaded / total) },
        );
        avatarId = upload.media_id;
      }
      const profile = unwrap(
        await api.PUT('/v1/me/profile', {
          body: {
            handle,
            display_name: displayName,
            bio,
            ...(avatarId !== undefined ? { avatar_media_id: avatarId } : {}),
          },
        }),
      );
      setAvatar(undefined);
      setProgress(undefined);
      setSaved(true);
      onSaved({ ...profile, handle_generated: false });
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setSaving(false);
    }
  };

  return (
    <main id="main">
      <h1>{me.handle_generated ? 'Choose your handle' : 'Your profile'}</h1>
      {me.handle_generated && (
        <p>
          You are @{me.handle} for now, a name we made up. Pick the handle people will find you by.
        </p>
      )}
      <form class="profile-editor" onSubmit={(event) => void save(event)}>
        <div class="avatar-field">
          <Avatar media={me.avatar} handle={me.handle} api={api} />
          <label>
            Avatar (JPEG, PNG or WebP)
            <input
              id="profile-avatar"
              type="file"
              accept={AVATAR_TYPES.join(',')}
              onChange={(e) => pick((e.target as HTMLInputElement).files)}
            />
          </label>
          {progress !== undefined && (
            <progress value={progress} max={1} aria-label="Avatar upload" />
          )}
        </div>
        <label for="profile-handle">Handle</label>
        <input
          id="profile-handle"
          value={handle}
          autocomplete="username"
          onInput={(e) => setHandle((e.target as HTMLInputElement).value)}
          aria-describedby="handle-help"
        />
        <small id="handle-help">3 to 30 letters, digits or underscores.</small>
        <label for="profile-name">Display name</label>
        <input
          id="profile-name"
          value={displayName}
          onInput={(e) => setDisplayName((e.target as HTMLInputElement).value)}
        />
        <small>
          {codePointCount(displayName)} / {DISPLAY_NAME_MAX_CODE_POINTS}
        </small>
        <label for="profile-bio">Bio</label>
        <textarea
          id="profile-bio"
          rows={3}
          value={bio}
          onInput={(e) => setBio((e.target as HTMLTextAreaElement).value)}
        />
        <small>
          {codePointCount(bio)} / {BIO_MAX_CODE_POINTS}
        </small>
        {shownProblems.length > 0 && (
          <ul class="error" role="alert">
            {shownProblems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        )}
        {error !== undefined && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={problems.length > 0 || saving}>
          {saving ? 'Saving…' : 'Save profile'}
        </button>
        {saved && (
          <p role="status" class="saved">
            Saved. <a href={`#/@${encodeURIComponent(me.handle)}`}>See your profile</a>
          </p>
        )}
      </form>
    </main>
  );
}
