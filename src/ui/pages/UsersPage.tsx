/**
 * Users (admins): who may sign in and with which role; add one, change a role, set a password, remove one. The
 * server keeps an admin: it refuses to demote or remove the last one, and the page says why.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { UserView } from '../../app/users.js';
import type { Role } from '../../core/roles.js';
import { api } from '../api/client.js';
import { ConfirmButton } from '../components/ConfirmButton.js';
import { Problem } from '../components/Problem.js';
import { when } from '../components/states.js';
import '../components/forms.css';

const USERS_KEY = ['users'] as const;
const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
/** As the server asks (src/auth/passwords.ts). */
const MIN_PASSWORD = 12;

function RoleSelect({
  value,
  onChange,
  label,
}: {
  value: Role;
  onChange: (role: Role) => void;
  label: string;
}) {
  return (
    <select value={value} onChange={(event) => onChange(event.target.value as Role)} aria-label={label}>
      {ROLES.map((role) => (
        <option key={role} value={role}>
          {role}
        </option>
      ))}
    </select>
  );
}

/** A password to be set: long enough, never offered by the browser's saved logins. */
function NewPassword({
  value,
  onChange,
  ...label
}: {
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  'aria-label'?: string;
}) {
  return (
    <input
      type="password"
      autoComplete="new-password"
      minLength={MIN_PASSWORD}
      required
      value={value}
      onChange={(event) => onChange(event.target.value)}
      {...label}
    />
  );
}

function PasswordForm({ name }: { name: string }) {
  const [password, setPassword] = useState('');
  const save = useMutation({
    mutationFn: () => api(`/api/users/${name}`, { method: 'PATCH', body: { password } }),
    onSuccess: () => setPassword(''),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`New password for ${name}`}>
      <NewPassword
        value={password}
        onChange={setPassword}
        placeholder={`new password (≥ ${MIN_PASSWORD})`}
        aria-label={`New password for ${name}`}
      />
      <button type="submit" disabled={save.isPending}>
        Set password
      </button>
      {save.isSuccess && <span role="status">Set: their sessions ended.</span>}
      <Problem error={save.error} />
    </form>
  );
}

function UserRow({ user }: { user: UserView }) {
  const client = useQueryClient();
  const refresh = () => client.invalidateQueries({ queryKey: USERS_KEY });
  const setRole = useMutation({
    mutationFn: (role: Role) => api(`/api/users/${user.name}`, { method: 'PATCH', body: { role } }),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: () => api(`/api/users/${user.name}`, { method: 'DELETE' }),
    onSuccess: refresh,
  });
  return (
    <tr>
      <td>
        {user.name}
        {user.disabled && <span className="muted"> (disabled)</span>}
      </td>
      <td>
        <RoleSelect
          value={user.role}
          onChange={(role) => setRole.mutate(role)}
          label={`Role of ${user.name}`}
        />
        <Problem error={setRole.error} />
      </td>
      <td>{when(user.createdAt)}</td>
      <td>
        <PasswordForm name={user.name} />
      </td>
      <td>
        <ConfirmButton
          label="Remove"
          question={`Remove user ${user.name}?`}
          onConfirm={() => remove.mutate()}
          disabled={remove.isPending}
        />
        <Problem error={remove.error} />
      </td>
    </tr>
  );
}

function AddUserForm() {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [password, setPassword] = useState('');
  const add = useMutation({
    mutationFn: () => api<UserView>('/api/users', { method: 'POST', body: { name, role, password } }),
    onSuccess: () => {
      setName('');
      setPassword('');
      return client.invalidateQueries({ queryKey: USERS_KEY });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  return (
    <form className="form-grid" onSubmit={submit} aria-labelledby="add-user">
      <h2 id="add-user">Add a user</h2>
      <label>
        Name
        <input value={name} onChange={(event) => setName(event.target.value)} required autoComplete="off" />
      </label>
      <label>
        Role
        <RoleSelect value={role} onChange={setRole} label="Role" />
      </label>
      <label>
        Password
        <NewPassword value={password} onChange={setPassword} />
      </label>
      <p className="muted">At least {MIN_PASSWORD} characters; it is hashed (argon2id), never kept.</p>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={add.isPending}>
          Add user
        </button>
        {add.data && <span role="status">Added {add.data.name}.</span>}
      </div>
      <Problem error={add.error} />
    </form>
  );
}

export function UsersPage() {
  const users = useQuery({
    queryKey: USERS_KEY,
    queryFn: () => api<{ users: UserView[] }>('/api/users'),
  });
  return (
    <section className="admin">
      <h1>Users</h1>
      {users.isPending && <p className="loading">Loading users…</p>}
      <Problem error={users.error} />
      {users.data && (
        <table className="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Since</th>
              <th>Password</th>
              <th>Remove</th>
            </tr>
          </thead>
          <tbody>
            {users.data.users.map((user) => (
              <UserRow key={user.name} user={user} />
            ))}
          </tbody>
        </table>
      )}
      <AddUserForm />
    </section>
  );
}
