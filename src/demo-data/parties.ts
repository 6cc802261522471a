/**
 * Buyers and suppliers of contracts. Each is a pure function of (seed, index): about 40% of SIRET
 * titulaires are generated establishments (found through siretForEstablishment), the others are
 * outside companies, so a join to the establishments file matches a realistic share.
 */
import type { ContractContext } from './contracts.js';
import { CONTRACT_RATES, type RecordMess } from './contract-mess.js';
import { siretForEstablishment } from './establishments.js';
import type { Json, JsonObject } from './json.js';
import { spacedSiret, straySpaces } from './mess.js';
import { buyerName, companyName, foreignCompanyName } from './names.js';
import { Rng, hash32, stratum } from './random.js';
import { breakLuhn, makeSiren, makeSiret } from './siret.js';

const SALT = {
  buyer: 203,
  outsider: 204,
  estName: 205,
  casing: 222,
} as const;

export interface Party {
  id: string;
  name: string;
}

export function buyer(ctx: ContractContext, a: number, accented: boolean): Party {
  const rng = new Rng(hash32(ctx.s, SALT.buyer, a));
  // Local authorities and public bodies: SIRENs starting with 2 (communes, EPCI) or 1 (State).
  const siren = makeSiren(`${rng.chance(0.85) ? '2' : '1'}${rng.digits(7)}`);
  const siret = makeSiret(siren, `000${rng.between(1, 9)}`);
  return { id: siret, name: buyerName(rng, accented) };
}

/** A supplier that is not among the generated establishments. ~7% of SIRENs start with 0. */
export function outsider(ctx: ContractContext, o: number): Party {
  const rng = new Rng(hash32(ctx.s, SALT.outsider, o));
  const first = rng.chance(0.07) ? '0' : String(rng.between(3, 9));
  const siret = makeSiret(makeSiren(first + rng.digits(7)), `00${String(rng.between(10, 99))}`);
  return { id: siret, name: companyName(rng) };
}

function establishmentSupplier(ctx: ContractContext, k: number): Party {
  return {
    id: siretForEstablishment(ctx.seed, k),
    name: companyName(new Rng(hash32(ctx.s, SALT.estName, k))),
  };
}

/** Titulaires of contract i; `mess` turns the first one into a non-SIRET or damaged identifier. */
export function titulaires(
  ctx: ContractContext,
  i: number,
  rng: Rng,
  numeric: boolean,
  mess: RecordMess | undefined,
): JsonObject[] {
  const { s } = ctx;
  const r = rng.next();
  const count = r < 0.91 ? 1 : r < 0.96 ? 2 : r < 0.978 ? 3 : r < 0.987 ? 4 : rng.between(5, 10);
  const out: JsonObject[] = [];
  for (let j = 0; j < count; j++) {
    const first = j === 0;
    if (first && mess === 'tva') {
      const fr = rng.chance(0.7);
      const id = fr ? `FR${rng.digits(2)}${makeSiren(rng.digits(8))}` : `DE${rng.digits(9)}`;
      out.push({
        typeIdentifiant: 'TVA',
        id,
        denominationSociale: fr ? companyName(rng) : foreignCompanyName(rng),
      });
      continue;
    }
    if (first && mess === 'horsUe') {
      const id = rng.pick([`BE0${rng.digits(14)}`, `IPINST${rng.digits(5)}`, `GB ${rng.digits(9)}`]);
      out.push({ typeIdentifiant: 'HORS_UE', id, denominationSociale: foreignCompanyName(rng) });
      continue;
    }
    if (first && mess === 'ue') {
      const id = rng.pick([`DE${rng.digits(9)}`, `ESB${rng.digits(8)}`, `HRB ${rng.digits(6)}`]);
      out.push({ typeIdentifiant: 'UE', id, denominationSociale: foreignCompanyName(rng) });
      continue;
    }
    if (first && mess === 'horsUeDash') {
      const name = foreignCompanyName(rng);
      const id = `${rng.pick(['CH', 'US', 'GB', 'MC'])}${name.replace(/[^A-Z]/g, '').slice(0, 16)}`;
      out.push({ typeIdentifiant: 'HORS-UE', id, denominationSociale: name });
      continue;
    }
    const party = rng.chance(CONTRACT_RATES.titulaireFromEstablishments)
      ? establishmentSupplier(ctx, Math.floor(ctx.establishments * rng.next() ** 2))
      : outsider(ctx, Math.floor(ctx.outsiders * rng.next() ** 1.5));
    let name = party.name;
    if (rng.chance(CONTRACT_RATES.strayNameSpaces)) name = straySpaces(rng, name);
    const typeIdentifiant =
      first && stratum(s, SALT.casing, i, CONTRACT_RATES.siretCasingPeriod) ? 'Siret' : 'SIRET';
    let id: Json = party.id;
    if (first && mess === 'freeTextId') {
      id = `${name.replace(/[^A-Z]/g, '').slice(0, 10)}/${rng.pick(['EVEN', 'IDF', 'SUD'])}`;
    } else if (first && mess === 'badLuhn') {
      id = breakLuhn(party.id);
    } else if (first && mess === 'spacedId') {
      id = spacedSiret(party.id);
    }
    // A numeric source writes 01234567800012 as 1234567800012.
    if (numeric && typeof id === 'string' && /^\d{14}$/.test(id)) id = Number(id);
    out.push({ typeIdentifiant, id, denominationSociale: name });
  }
  return out;
}
