using System.Text;
using Microsoft.Extensions.Options;

namespace Socks5UdpRelay.Server.Auth;

/// <summary>Checks every user at start: a name, exactly one password source, a source that exists, a hash that parses.</summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions o)
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < o.Users.Count; i++)
        {
            var user = o.Users[i];
            string key = $"{AuthOptions.SectionName}:Users:{i}";
            if (string.IsNullOrEmpty(user.Name) || Encoding.UTF8.GetByteCount(user.Name) > 255)
            {
                errors.Add($"{key}:Name = '{user.Name}': a user name has 1 to 255 bytes (RFC 1929).");
            }
            else if (!names.Add(user.Name))
            {
                errors.Add($"{key}:Name = '{user.Name}': this user is configured twice.");
            }

            int sources = new[] { user.PasswordHash, user.PasswordFile, user.PasswordEnv }.Count(s => !string.IsNullOrEmpty(s));
            if (sources != 1)
            {
                errors.Add($"{key}: give exactly one of PasswordHash, PasswordFile, PasswordEnv (found {sources}).");
                continue;
            }

            if (!string.IsNullOrEmpty(user.PasswordHash) && !PasswordHash.TryParse(user.PasswordHash, out _))
            {
                errors.Add($"{key}:PasswordHash is not a hash from 'Socks5UdpRelay.Server hash-password' (pbkdf2-sha256$ITERATIONS$SALT$HASH).");
            }
            else if (!string.IsNullOrEmpty(user.PasswordFile) && !File.Exists(user.PasswordFile))
            {
                errors.Add($"{key}:PasswordFile = '{user.PasswordFile}': no such file.");
            }
            else if (!string.IsNullOrEmpty(user.PasswordEnv) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(user.PasswordEnv)))
            {
                errors.Add($"{key}:PasswordEnv = '{user.PasswordEnv}': the variable is not set.");
            }
            else if (!string.IsNullOrEmpty(user.PasswordFile) && Unreadable(user.PasswordFile) is { } why)
            {
                // A secret bind-mounted from the host keeps the host's owner and mode (README, "Docker").
                errors.Add($"{key}:PasswordFile = '{user.PasswordFile}' cannot be read by this process: {why}. "
                    + "Make it readable by the server's user, e.g. chown 1654 and chmod 0400 for the container image's user.");
            }
            else if (UserSecrets.Read(user) is { } secret && !PasswordHash.IsHash(secret) && Encoding.UTF8.GetByteCount(secret) is 0 or > 255)
            {
                errors.Add($"{key}: the password has {Encoding.UTF8.GetByteCount(secret)} bytes; RFC 1929 allows 1 to 255.");
            }
            else if (UserSecrets.Read(user) is { } hash && PasswordHash.IsHash(hash) && !PasswordHash.TryParse(hash, out _))
            {
                errors.Add($"{key}: the hash read from {(user.PasswordFile is null ? "PasswordEnv" : "PasswordFile")} does not parse.");
            }
        }

        if (o.FailureDelay < TimeSpan.Zero || o.FailureDelay > TimeSpan.FromSeconds(30))
        {
            errors.Add($"{AuthOptions.SectionName}:FailureDelay = {o.FailureDelay}: use 00:00:00 to 00:00:30.");
        }

        if (o.MaxConcurrentAttemptsPerClient < 1)
        {
            errors.Add($"{AuthOptions.SectionName}:MaxConcurrentAttemptsPerClient = {o.MaxConcurrentAttemptsPerClient}: must be at least 1.");
        }

        if (o.DerivationThreads is < 0 or > 256)
        {
            errors.Add($"{AuthOptions.SectionName}:DerivationThreads = {o.DerivationThreads}: use 0 (half the processors) to 256.");
        }

        if (o.MaxQueuedDerivations < 1)
        {
            errors.Add($"{AuthOptions.SectionName}:MaxQueuedDerivations = {o.MaxQueuedDerivations}: must be at least 1.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string? Unreadable(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            return null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return e.Message;
        }
    }
}
