using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>Every test of this project is discovered: no attribute names a discoverer that does not load here.</summary>
public sealed class DiscoveryTests : DiscoveryGuard;
