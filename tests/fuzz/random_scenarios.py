#!/usr/bin/env python3
"""Random valid scenarios: every one must run with its invariants intact.

Writes scenarios drawn at random over the ranges the loader accepts (zero capacities and
prices, no clouds or no labs, firms that are both lab and cloud, inference-only and
restricted chips, every pricing and allocation rule, capacity, commitment and chip-supply
deals, forbid / set / scale / acquire events, lifetimes of one month, quarterly steps) and
runs each with `entangle run`. It fails when a run does not exit 0: a valid scenario that
stops on a broken invariant or NaN is a bug in the model (tests/data/model/free_chips.yaml
was found this way).

With --reference OTHER_ENTANGLE it also runs each scenario with that binary and checks the
two results files are bit-identical (datasets only), the check for changes meant not to
move any result (speed work).

Usage: random_scenarios.py ENTANGLE --work DIR [--seeds A:B] [--reference OTHER_ENTANGLE]
Needs PyYAML (Debian python3-yaml); --reference needs h5py and numpy too.
"""
import argparse
import os
import random
import subprocess
import sys

try:
    import yaml
except ImportError:  # ctest reads 77 as skipped
    print('random_scenarios.py: PyYAML is missing (Debian python3-yaml); skipped')
    sys.exit(77)


def random_scenario(seed):
    rng = random.Random(seed)
    pick = lambda *options: rng.choice(options)
    month = lambda y0, y1: f"{rng.randint(y0, y1)}-{rng.randint(1, 12):02d}"
    sc = {'scenario': {'name': f'random{seed}', 'start': '2024-01', 'end': month(2025, 2028),
                       'step': pick('month', 'month', 'quarter'), 'seed': seed, 'replications': rng.randint(2, 4)},
          'market': {'end_market_usd': pick(5e8, 5e9, 5e10, 0), 'end_market_growth': pick(0.5, 1.0, 2.0, -0.5),
                     'rho_usd_per_h100e_hour': pick(1.0, 4.0, 10.0), 'bargaining': pick('nash', 'rubinstein', 'posted')},
          'regions': {}, 'chips': {}, 'firms': {}}
    regions = [f'reg{i}' for i in range(rng.randint(1, 2))]
    for r in regions:
        sc['regions'][r] = {'power_mw': pick(0, 50, 500, 5000), 'interconnect_mw_per_month': pick(0, 10, 100),
                            'build_months': pick(0, 3, 12, 24), 'power_usd_per_mwh': pick(0, 70)}
    makers = [f'mk{i}' for i in range(rng.randint(1, 2))]
    clouds = [f'cl{i}' for i in range(pick(0, 1, 1, 2, 3))]
    labs = [f'lb{i}' for i in range(pick(0, 1, 2, 3, 4))]
    lab_in_cloud = {}
    standalone_labs = []
    for lab in labs:  # some labs are a cloud's own (one firm, both roles)
        if clouds and rng.random() < 0.3:
            lab_in_cloud[rng.choice(clouds)] = lab
        else:
            standalone_labs.append(lab)
    chips = [f'ch{i}' for i in range(rng.randint(1, 4))]
    for c in chips:
        spec = {'vendor': rng.choice(makers), 'release': month(2022, 2026), 'h100e': pick(0.3, 1.0, 4.0),
                'power_kw': pick(0.5, 1.5, 3.0), 'unit_cost': pick(0, 3000, 20000),
                'list_price': pick(10000, 30000, 60000), 'lifetime_months': pick(1, 2, 3, 6, 12, 24, 60),
                'age_decay': pick(0, 0.3, 1.0)}
        if rng.random() < 0.3: spec['workload'] = 'inference'
        if rng.random() < 0.2 and clouds: spec['sold_to'] = rng.sample(clouds, rng.randint(1, len(clouds)))
        if rng.random() < 0.3: spec['software_factor'] = pick(0.5, 1.0)
        sc['chips'][c] = spec
    firms = sc['firms']
    for m in makers:
        capacity = {c: pick(0, 100, 2000, 20000, {'2024-01': 1000, '2025-06': 0}, {'2024-01': 0, '2025-01': 5000})
                    for c in chips if sc['chips'][c]['vendor'] == m}
        firms[m] = {'chipmaker': {'capacity_per_month': capacity, 'pricing': pick('backlog', 'backlog', 'cournot'),
                                  'allocation': pick('pro_rata', 'fifo', 'strategic'), 'cash': 1e9,
                                  'kappa': pick(0, 0.05, 0.5), 'min_margin': pick(0, 0.2), 'max_multiple': pick(1, 2, 10)}}
    for c in clouds:
        sites = rng.sample(regions, rng.randint(1, len(regions)))
        fleet = [{'chip': rng.choice(chips), 'region': sites[0], 'units': pick(0, 100, 5000, 50000),
                  'age_months': pick(0, 6, 50)} for _ in range(pick(0, 0, 1, 2))]
        # Power online covers the fleet (a fleet drawing more is refused before the first step).
        mw = sum(h['units'] * sc['chips'][h['chip']]['power_kw'] / 1000 for h in fleet) * pick(1.0, 1.5, 3)
        cloud = {'regions': sites, 'fleet': fleet, 'power_online': {sites[0]: mw}, 'cash': pick(0, 1e9, 1e11),
                 'capex_budget': pick(0, 1e8, 1e10, 1e12), 'forecast_horizon_months': pick(1, 3, 12, 24, 48),
                 'sells_capacity': rng.random() < 0.85, 'eta': pick(0, 1.5, 5),
                 'target_utilisation': pick(0.5, 0.8, 1.0), 'demand_growth': pick(-0.5, 0.5, 3)}
        if rng.random() < 0.3: cloud['exclusivity_discount'] = 0.1
        firms[c] = {'cloud': cloud}
    buyers = [c for c in clouds if c in lab_in_cloud] + standalone_labs
    for b in buyers:
        firms.setdefault(b, {})['lab'] = {
            'cash': pick(0, 1e8, 1e10), 'train0_h100e': pick(0, 100, 10000, 200000), 'training_growth': pick(0.5, 3, 10),
            'strategic_value': pick(0, 0.5, 6, 50), 'urgency': pick(0, 0.5, 3), 'train_share': pick(0, 0.5, 1),
            'contract_share': pick(0, 0, 0.5), 'funding_capacity': pick(0, 1e9)}
    deals, events = [], []
    for i in range(rng.randint(0, 3)):
        kind = rng.choice(['chip_supply', 'capacity', 'commitment'])
        if kind == 'chip_supply' and clouds:
            c = rng.choice(chips)
            deals.append({'id': f'k{i}', 'kind': 'chip_supply', 'seller': sc['chips'][c]['vendor'],
                          'buyer': rng.choice(clouds), 'chip': c, 'start': month(2024, 2026),
                          'term_months': rng.randint(1, 24), 'units_per_month': pick(10, 1000, 10000),
                          'unit_price': pick(0, 20000), 'priority': rng.random() < 0.5})
        elif kind in ('capacity', 'commitment') and clouds and buyers:
            seller = rng.choice(clouds)
            others = [b for b in buyers if b != seller]
            if not others: continue
            deal = {'id': f'k{i}', 'kind': kind, 'seller': seller, 'buyer': rng.choice(others)}
            if kind == 'capacity':
                deal.update({'start': month(2024, 2026), 'term_months': rng.randint(1, 36),
                             'quantity_h100e': pick(100, 10000, 1e6), 'price_usd_per_h100e_hour': pick(0.5, 2, 10),
                             'exclusive': rng.random() < 0.5})
            else:
                deal.update({'start': month(2024, 2025), 'term_months': rng.randint(6, 36), 'value_usd': pick(1e7, 1e9)})
            deals.append(deal)
    for deal in deals:  # signed at the start, or by an event in its first month
        if rng.random() < 0.5: sc.setdefault('contracts', []).append(deal)
        else: events.append({'id': 'e' + deal['id'], 'at': deal['start'], 'do': 'sign', 'contract': deal})
    names = list(firms)
    for i in range(rng.randint(0, 4)):
        kind = rng.choice(['forbid', 'set', 'scale', 'acquire'])
        if kind == 'forbid' and len(names) >= 2:
            event = {'id': f'f{i}', 'at': month(2024, 2026), 'do': 'forbid', 'firms': rng.sample(names, 2)}
            if rng.random() < 0.5: event['until'] = f"{int(event['at'][:4]) + rng.randint(1, 2)}-{rng.randint(1, 12):02d}"
            events.append(event)
        elif kind == 'set':
            m = rng.choice(makers)
            capacity = firms[m]['chipmaker']['capacity_per_month']
            if capacity:
                events.append({'id': f's{i}', 'at': month(2024, 2026), 'do': 'set',
                               'target': f'firms.{m}.chipmaker.capacity_per_month.{rng.choice(list(capacity))}',
                               'value': pick(0, 0, 50000)})
        elif kind == 'scale':
            events.append({'id': f's{i}', 'at': month(2024, 2026), 'do': 'scale', 'target': 'market.end_market_usd',
                           'value': pick(0, 0.1, 10)})
        elif kind == 'acquire' and len(names) >= 2 and not any(e['do'] == 'acquire' for e in events):
            buyer, target = rng.sample(names, 2)
            events.append({'id': f'a{i}', 'at': month(2024, 2026), 'do': 'acquire', 'firms': [buyer, target],
                           'value': 1e9})
    online = {}
    for c in clouds:
        for r, mw in firms[c]['cloud']['power_online'].items(): online[r] = online.get(r, 0) + mw
    for r in regions:  # a region's grid holds the power already online in it
        sc['regions'][r]['power_mw'] = max(sc['regions'][r]['power_mw'], online.get(r, 0) * 1.01)
    if seed % 2 == 1:
        move_cost_inputs(sc, random.Random(seed * 7919 + 1), events)
    if events: sc['events'] = sorted(events, key=lambda e: e['at'])
    sc['outputs'] = {'series': 'all', 'network': True, 'every': 1}
    return sc


def move_cost_inputs(sc, rng, events):
    """Odd seeds: inputs of costs that the engine may cache while they stand still (power
    prices, a cloud's rates, a family's power, H100e and software factor, list prices) become
    time paths, draws or dated set/scale events. Drawn from a stream of their own, so the rest
    of the scenario is as the seed's without them."""
    def moving(value, low, high, draws=True):
        kind = rng.choice(['path', 'draw', 'constant'] if draws else ['path', 'constant'])
        if kind == 'path':
            return {'2024-01': value, f'{rng.randint(2024, 2026)}-{rng.randint(2, 12):02d}': rng.uniform(low, high)}
        if kind == 'draw':
            return {'dist': 'uniform', 'min': low, 'max': high}
        return value
    def maybe_event(target, low, high):
        if rng.random() < 0.3:
            events.append({'id': f'm{len(events)}', 'at': f'{rng.randint(2024, 2026)}-{rng.randint(1, 12):02d}',
                           'do': rng.choice(['set', 'scale']), 'target': target, 'value': rng.uniform(low, high)})
    for name, region in sc['regions'].items():
        region['power_usd_per_mwh'] = moving(region['power_usd_per_mwh'], 0, 150)
        maybe_event(f'regions.{name}.power_usd_per_mwh', 0.5, 2)
    for name, spec in sc['chips'].items():
        # Starts as drawn: the fleets' power online was sized with it.
        spec['power_kw'] = moving(spec['power_kw'], 0.3, 3, draws=False)
        spec['h100e'] = moving(spec['h100e'], 0.3, 4)
        spec['software_factor'] = moving(spec.get('software_factor', 1.0), 0.3, 1)
        spec['list_price'] = moving(spec['list_price'], 5000, 60000)
        maybe_event(f'chips.{name}.h100e', 0.5, 1.5)
    for name, firm in sc['firms'].items():
        cloud = firm.get('cloud')
        if not cloud: continue
        cloud['wacc'] = moving(0.1, 0, 0.3)
        cloud['om_rate'] = moving(0.05, 0, 0.2)
        cloud['dc_capex_per_mw'] = moving(1.1e7, 0, 3e7)
        cloud['target_utilisation'] = moving(cloud['target_utilisation'], 0.3, 1)
        maybe_event(f'firms.{name}.cloud.wacc', 0.5, 1.5)


def same_results(a, b):
    import h5py
    import numpy as np
    differ = []
    with h5py.File(a, 'r') as fa, h5py.File(b, 'r') as fb:
        def visit(name, obj):
            if not isinstance(obj, h5py.Dataset): return
            if name not in fb: differ.append(name); return
            x, y = np.asarray(obj[()]), np.asarray(fb[name][()])
            if x.shape != y.shape or x.dtype != y.dtype: differ.append(name); return
            columns = [x[f] for f in x.dtype.names] if x.dtype.names else [x]
            others = [y[f] for f in y.dtype.names] if y.dtype.names else [y]
            for u, v in zip(columns, others):
                if u.dtype.kind == 'O':  # variable-length text: by value
                    same = u.ravel().tolist() == v.ravel().tolist()
                else:  # bitwise: NaN and -0.0 included
                    same = np.ascontiguousarray(u).tobytes() == np.ascontiguousarray(v).tobytes()
                if not same:
                    differ.append(name)
                    return
        fa.visititems(visit)
    return differ


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('entangle')
    parser.add_argument('--work', required=True, help='directory for the scenarios and results')
    parser.add_argument('--seeds', default='0:40', help='A:B, the scenarios random_scenario(A..B-1)')
    parser.add_argument('--reference', help='another entangle whose results must be bit-identical')
    args = parser.parse_args()
    first, last = (int(x) for x in args.seeds.split(':'))
    os.makedirs(args.work, exist_ok=True)
    failures = []
    for seed in range(first, last):
        path = os.path.join(args.work, f'random{seed}.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump(random_scenario(seed), f, sort_keys=False)
        out = os.path.join(args.work, f'random{seed}.h5')
        run = subprocess.run([args.entangle, 'run', path, '-o', out, '--quiet'], capture_output=True, text=True)
        if run.returncode != 0:
            failures.append(f'{path}: exit {run.returncode}: {run.stderr.strip()[:300]}')
            continue
        if args.reference:
            ref_out = os.path.join(args.work, f'random{seed}.reference.h5')
            ref = subprocess.run([args.reference, 'run', path, '-o', ref_out, '--quiet'], capture_output=True, text=True)
            if ref.returncode != 0:
                print(f'{path}: the reference exits {ref.returncode} (not compared): {ref.stderr.strip()[:200]}')
            else:
                differ = same_results(ref_out, out)
                if differ: failures.append(f'{path}: results differ from the reference in {", ".join(differ[:5])}')
                os.remove(ref_out)
        os.remove(out)
    print(f'{last - first - len(failures)} of {last - first} random scenarios passed')
    for failure in failures: print(failure)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
