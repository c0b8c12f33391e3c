// Contract addresses go-livepeer defaults to on Arbitrum One. Apart from the modules that use them, so that reading
// the configuration does not load the chain client (ethers' providers and contracts, ~10 MB an off-chain gateway
// never needs).

/** The Livepeer Controller on Arbitrum One (go-livepeer starter.go, network arbitrum-one-mainnet). */
export const ARBITRUM_ONE_CONTROLLER = "0xD8E8328501E9645d16Cf49539efC04f734606ee4";

/** The ETH / USD feed on Arbitrum One (go-livepeer starter.go defaultPriceFeedAddr). */
export const ARBITRUM_ETH_USD_FEED = "0x639Fe6ab55C921f74e7fac1ee960C0B6293ba612";
