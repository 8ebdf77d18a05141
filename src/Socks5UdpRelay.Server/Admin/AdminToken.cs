using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>
/// The flow view's bearer token (RFC 6750 §2.1), kept only as its SHA-256: a presented token is
/// hashed and the two hashes compared in constant time, so neither the comparison's time nor its
/// length says how much of a guess was right. The token itself is never logged or echoed.
/// </summary>
internal sealed class AdminToken
{
    private readonly byte[]? _hash;

    public AdminToken(IOptions<AdminOptions> options)
    {
        if (TryRead(options.Value, out string? token, out _) && token is not null)
        {
            _hash = SHA256.HashData(Encoding.ASCII.GetBytes(token));
        }
    }

    /// <summary>False: no token is configured and the flow view is off.</summary>
    public bool IsConfigured => _hash is not null;

    /// <summary>Where the token came from, for the start-up line (never the token).</summary>
    public static string Source(AdminOptions options) => !string.IsNullOrEmpty(options.TokenFile) ? $"from {options.TokenFile}" : "from Admin:Token";

    /// <summary>What an <c>Authorization</c> header value proves.</summary>
    public AdminAccess Check(string? authorization)
    {
        if (_hash is null)
        {
            return AdminAccess.Invalid;
        }

        if (string.IsNullOrEmpty(authorization))
        {
            return AdminAccess.Missing;
        }

        const string Scheme = "Bearer ";
        if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return AdminAccess.Invalid;
        }

        string presented = authorization[Scheme.Length..].Trim();
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.Latin1.GetBytes(presented), hash);
        return CryptographicOperations.FixedTimeEquals(hash, _hash) ? AdminAccess.Granted : AdminAccess.Invalid;
    }

    /// <summary>
    /// The configured token, or null when none is; false with <paramref name="error"/> when the
    /// configuration names one that cannot be used. No message carries the token.
    /// </summary>
    public static bool TryRead(AdminOptions options, out string? token, out string? error)
    {
        token = null;
        error = null;
        string given = options.Token ?? "", file = options.TokenFile ?? ""; // a key set to null in configuration binds null
        string key = $"{AdminOptions.SectionName}:{nameof(AdminOptions.Token)}";
        if (given.Length > 0 && file.Length > 0)
        {
            error = $"{key} and {AdminOptions.SectionName}:{nameof(AdminOptions.TokenFile)} are both set: give one.";
            return false;
        }

        if (file.Length > 0)
        {
            key = $"{AdminOptions.SectionName}:{nameof(AdminOptions.TokenFile)}";
            try
            {
                using var reader = new StreamReader(file);
                token = reader.ReadLine()?.Trim() ?? "";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                error = $"{key} = '{file}' cannot be read: {e.Message}";
                return false;
            }

            key = $"the first line of {key} ({file})";
        }
        else if (given.Length > 0)
        {
            token = given;
        }
        else
        {
            return true;
        }

        if (token.Length < AdminOptions.MinTokenLength || !IsBearerToken(token))
        {
            error = $"{key} is not a usable token: use at least {AdminOptions.MinTokenLength} characters of A-Z a-z 0-9 - . _ ~ + / (e.g. the output of `openssl rand -hex 32`).";
            token = null;
            return false;
        }

        return true;
    }

    /// <summary>b64token (RFC 6750 §2.1): what may follow "Bearer " without quoting.</summary>
    private static bool IsBearerToken(string token)
    {
        string body = token.TrimEnd('=');
        return body.Length > 0 && body.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/');
    }
}
