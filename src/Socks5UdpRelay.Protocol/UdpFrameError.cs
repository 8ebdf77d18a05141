namespace Socks5UdpRelay.Protocol;

/// <summary>Why <c>UdpOverTcpFrame.TryRead</c> found a frame malformed.</summary>
public enum UdpFrameError : byte
{
    None,

    /// <summary>DATLEN over the reader's limit.</summary>
    TooLong,

    /// <summary>An ATYP that is neither an address type nor, for a client that opted in, a control or mapped frame.</summary>
    UnknownType,

    /// <summary>HDRLEN other than ATYP implies.</summary>
    HeaderLength,

    /// <summary>A name of length 0.</summary>
    EmptyName,

    /// <summary>A control or mapped frame from a client that did not opt in.</summary>
    NotOptedIn,
}
