import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { envName } from '../../cli/flags.js';
import { formatExtraData } from '../../cli/output.js';
import { ErrorCodes, InputError } from '../../core/errors.js';
import { sortValidators } from '../../core/genesis/build.js';
import {
  decodeExtraData,
  encodeGenesisExtraData,
  type IbftExtraData,
} from '../../core/genesis/extra-data.js';

type ExtraDataResult = { extraData: string; validators: string[] } | IbftExtraData;

export default class GenesisExtradata extends BaseCommand {
  static override summary = 'Encode or decode IBFT 2.0 extraData.';

  static override description =
    'With --validators, prints the genesis extraData for those addresses in the order given, byte-identical to `besu rlp encode --type=IBFT_EXTRA_DATA` (add --sort for the ascending order a genesis should use). With --decode, prints every field of an extraData value: vanity, validators, vote, round and commit seals.';

  static override examples = [
    '<%= config.bin %> <%= command.id %> --validators 0xbe068f726a13c8d46c44be6ce9d275600e1735a4,0x5ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193',
    '<%= config.bin %> <%= command.id %> --decode 0xf83ea0...c0 --json',
  ];

  static override flags = {
    validators: Flags.string({
      description: 'Comma-separated validator addresses (0x + 40 hex each).',
      env: envName('validators'),
      exactlyOne: ['validators', 'decode'],
      helpValue: '0xA,0xB,...',
    }),
    decode: Flags.string({
      description: 'An extraData hex value to decode.',
      env: envName('decode'),
      helpValue: 'HEX',
    }),
    sort: Flags.boolean({
      description: 'Sort the validators ascending first, as a genesis should have them.',
      env: envName('sort'),
      default: false,
    }),
  };

  async run(): Promise<ExtraDataResult> {
    const { flags } = await this.parse(GenesisExtradata);
    if (flags.decode !== undefined) {
      const decoded = decodeExtraData(flags.decode);
      this.log(formatExtraData(decoded));
      return decoded;
    }
    const given = flags
      .validators!.split(',')
      .map((address) => address.trim())
      .filter(Boolean);
    const invalid = given.filter((address) => !/^0x[0-9a-fA-F]{40}$/.test(address));
    if (given.length === 0 || invalid.length > 0) {
      throw new InputError(
        ErrorCodes.FLAG_INVALID,
        '--validators: expected comma-separated addresses (0x + 40 hex digits each)',
        {
          details:
            given.length === 0
              ? ['found no address']
              : invalid.map((address) => `not an address: "${address}"`),
        },
      );
    }
    const validators = flags.sort ? sortValidators(given) : given.map((address) => address.toLowerCase());
    const extraData = encodeGenesisExtraData(validators);
    this.log(extraData);
    return { extraData, validators };
  }
}
