using System.Security.Cryptography;
using System.Text;

namespace Socks5UdpRelay.Server.Auth;

/// <summary>
/// Salted PBKDF2-SHA256 password hashes in one self-describing string,
/// <c>pbkdf2-sha256$ITERATIONS$SALT$HASH</c> (salt and hash in base64), so the cost can be raised
/// later without invalidating hashes made earlier.
/// </summary>
internal static class PasswordHash
{
    public const string Prefix = "pbkdf2-sha256$";
    public const int DefaultIterations = 210_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public static string Create(ReadOnlySpan<byte> password, int iterations = DefaultIterations)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(SaltBytes);
        byte[] hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return $"{Prefix}{iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public static string Create(string password, int iterations = DefaultIterations) => Create(Encoding.UTF8.GetBytes(password), iterations);

    public static bool IsHash(string? text) => text is not null && text.StartsWith(Prefix, StringComparison.Ordinal);

    public static bool TryParse(string text, out Parsed parsed)
    {
        parsed = default;
        if (!IsHash(text))
        {
            return false;
        }

        var parts = text[Prefix.Length..].Split('$');
        if (parts.Length != 3 || !int.TryParse(parts[0], out int iterations) || iterations is < 1_000 or > 10_000_000)
        {
            return false;
        }

        try
        {
            byte[] salt = Convert.FromBase64String(parts[1]);
            byte[] hash = Convert.FromBase64String(parts[2]);
            if (salt.Length < 8 || hash.Length < 16)
            {
                return false;
            }

            parsed = new Parsed(iterations, salt, hash);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Derives and compares in constant time, so the answer's timing says nothing about the hash.</summary>
    public static bool Verify(in Parsed expected, ReadOnlySpan<byte> password)
    {
        Span<byte> actual = stackalloc byte[expected.Hash.Length];
        Rfc2898DeriveBytes.Pbkdf2(password, expected.Salt, actual, expected.Iterations, HashAlgorithmName.SHA256);
        return CryptographicOperations.FixedTimeEquals(actual, expected.Hash);
    }

    internal readonly record struct Parsed(int Iterations, byte[] Salt, byte[] Hash);
}
