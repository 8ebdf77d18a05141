namespace Socks5UdpRelay.Server.Auth;

/// <summary>Reads a user's password (or hash) from wherever its configuration says.</summary>
internal static class UserSecrets
{
    /// <summary>The secret, trimmed of a trailing newline (files written by echo have one); null when the source is missing.</summary>
    public static string? Read(UserOptions user)
    {
        if (!string.IsNullOrEmpty(user.PasswordHash))
        {
            return user.PasswordHash;
        }

        if (!string.IsNullOrEmpty(user.PasswordFile))
        {
            return File.Exists(user.PasswordFile) ? File.ReadAllText(user.PasswordFile).TrimEnd('\r', '\n') : null;
        }

        if (!string.IsNullOrEmpty(user.PasswordEnv))
        {
            return Environment.GetEnvironmentVariable(user.PasswordEnv)?.TrimEnd('\r', '\n');
        }

        return null;
    }
}
