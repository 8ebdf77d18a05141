namespace Socks5UdpRelay.Server.Admin;

/// <summary>What a request's <c>Authorization</c> header proves to the flow view.</summary>
internal enum AdminAccess
{
    /// <summary>No header: answered 401 with a Bearer challenge.</summary>
    Missing,

    /// <summary>Another scheme or a wrong token: 401, <c>error="invalid_token"</c> (RFC 6750 §3.1), and logged.</summary>
    Invalid,

    /// <summary>The configured token.</summary>
    Granted,
}
