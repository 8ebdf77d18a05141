using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Socks5UdpRelay.Server.Auth;

/// <summary>
/// The configured users, with their password hashes loaded once at start. A plain password from
/// a file or variable is hashed on load, so no password is kept in memory as given. Successful
/// checks are remembered by a keyed digest for a while, so a client reconnecting often does not
/// cost a full key derivation each time.
/// </summary>
internal sealed class UserDirectory
{
    private const int MaxRemembered = 1024;
    private readonly Dictionary<string, PasswordHash.Parsed> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _recent = new(StringComparer.Ordinal);
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);

    public UserDirectory(IOptions<AuthOptions> options)
    {
        foreach (var user in options.Value.Users)
        {
            string secret = UserSecrets.Read(user) ?? throw new InvalidOperationException($"No password for user '{user.Name}'.");
            string hash = PasswordHash.IsHash(secret) ? secret : PasswordHash.Create(secret);
            PasswordHash.TryParse(hash, out var parsed);
            _users[user.Name!] = parsed;
        }

        FailureDelay = options.Value.FailureDelay;
    }

    public bool RequiresAuthentication => _users.Count > 0;

    public TimeSpan FailureDelay { get; }

    /// <summary>True when the user exists and the password matches. An unknown user costs the same derivation as a known one.</summary>
    public bool Verify(ReadOnlySpan<byte> username, ReadOnlySpan<byte> password)
    {
        string name = Encoding.UTF8.GetString(username);
        byte[] digest = HMACSHA256.HashData(_cacheKey, (byte[])[.. username, 0, .. password]);
        if (_recent.TryGetValue(name, out byte[]? known) && CryptographicOperations.FixedTimeEquals(known, digest))
        {
            return true;
        }

        bool exists = _users.TryGetValue(name, out var expected);
        if (!exists)
        {
            expected = Decoy;
        }

        bool ok = PasswordHash.Verify(expected, password) && exists;
        if (ok)
        {
            if (_recent.Count >= MaxRemembered)
            {
                _recent.Clear();
            }

            _recent[name] = digest;
        }

        return ok;
    }

    private static readonly PasswordHash.Parsed Decoy = new(PasswordHash.DefaultIterations, new byte[16], new byte[32]);
}
