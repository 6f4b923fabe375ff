"""A validator's conversation with the others, one part per job (as CometBFT's reactors).

``node/peer_network.PeerNetwork`` decodes each frame and hands it to the part that owns its
message type:

- ``consensus_relay``: proposals, votes, timeouts and sync info, both ways; help for peers
  still in an epoch we left;
- ``tx_gossip``: admitted transactions passed on in bounded batches;
- ``block_sync``: blocks by id for the consensus core, and catch-up by height;
- ``state_sync``: state snapshots for a validator too far behind to replay.

``links`` holds what they share: the node, the frame transport and the driver.
"""
