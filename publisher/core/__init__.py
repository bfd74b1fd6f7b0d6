"""The shared core both Lambdas use: catalogue model, DynamoDB codec, config, identity, published contracts."""
