namespace Socks5UdpRelay.Server.Resolution;

/// <summary>How names are resolved: cache time, deadline, family preference, and the server-wide cap on lookups in flight (see config/appsettings.json).</summary>
internal sealed record ResolverSettings(TimeSpan CacheTime, TimeSpan Timeout, bool PreferIPv6, int MaxConcurrentLookups);
