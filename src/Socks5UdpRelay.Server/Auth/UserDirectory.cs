using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Socks5UdpRelay.Server.Auth;

/// <summary>
/// The configured users, with their password hashes loaded once at start. A plain password from
/// a file or variable is hashed on load, so no password is kept in memory as given. Successful
/// checks are remembered by a keyed digest for a while, so a client reconnecting often does not
/// cost a full key derivation each time (<see cref="Recall"/>, cheap); everything else costs one
/// (<see cref="Derive"/>, run by <see cref="KeyDerivationPool"/>).
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
        Decoy = CostliestDecoy(_users.Values);
    }

    public bool RequiresAuthentication => _users.Count > 0;

    public TimeSpan FailureDelay { get; }

    /// <summary>
    /// What an unknown user's password is derived against: as many iterations and output bytes as
    /// the costliest configured hash, so the time an answer takes does not tell an unknown user
    /// from a known one (README, "Security"). With a fixed decoy, users hashed with more
    /// iterations than it answered visibly later than names that do not exist.
    /// </summary>
    internal PasswordHash.Parsed Decoy { get; }

    /// <summary>True for a user name and password that succeeded recently: a keyed digest compared, no derivation.</summary>
    public bool Recall(ReadOnlySpan<byte> username, ReadOnlySpan<byte> password)
    {
        string name = Encoding.UTF8.GetString(username);
        return _recent.TryGetValue(name, out byte[]? known) && CryptographicOperations.FixedTimeEquals(known, Digest(username, password));
    }

    /// <summary>True when the user exists and the password matches. An unknown user costs the same derivation as the costliest known one.</summary>
    public bool Derive(ReadOnlySpan<byte> username, ReadOnlySpan<byte> password)
    {
        string name = Encoding.UTF8.GetString(username);
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

            _recent[name] = Digest(username, password);
        }

        return ok;
    }

    private byte[] Digest(ReadOnlySpan<byte> username, ReadOnlySpan<byte> password)
        => HMACSHA256.HashData(_cacheKey, (byte[])[.. username, 0, .. password]);

    /// <summary>
    /// PBKDF2-SHA256 costs its iterations once per 32-byte block of output: the decoy takes the
    /// largest product of the two, with a random salt and hash no password matches.
    /// </summary>
    private static PasswordHash.Parsed CostliestDecoy(IEnumerable<PasswordHash.Parsed> hashes)
    {
        static long Cost(PasswordHash.Parsed p) => (long)p.Iterations * ((p.Hash.Length + 31) / 32);
        var costliest = hashes.DefaultIfEmpty(new PasswordHash.Parsed(PasswordHash.DefaultIterations, new byte[16], new byte[32])).MaxBy(Cost);
        return new PasswordHash.Parsed(costliest.Iterations, RandomNumberGenerator.GetBytes(costliest.Salt.Length), RandomNumberGenerator.GetBytes(costliest.Hash.Length));
    }
}
